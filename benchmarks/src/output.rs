//! The JSON files and lines the tools write (benchmarks/report.py reads them): typed
//! structs, written by `serde_json`.

use anyhow::Context;
use serde::{Serialize, Serializer};
use std::path::Path;

/// A measured number as the reports write it: to three decimals (plenty for milliseconds
/// and requests per second), a whole number without decimals, and null when not finite.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub(crate) struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rounded = (self.0 * 1000.0).round() / 1000.0;
        if !self.0.is_finite() {
            serializer.serialize_none()
        } else if self.0.abs() >= 1e15 {
            serializer.serialize_f64(self.0)
        } else if rounded.fract() == 0.0 {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "a whole number below 1e15 in magnitude"
            )]
            serializer.serialize_i64(rounded as i64)
        } else {
            serializer.serialize_f64(rounded)
        }
    }
}

/// Numbers as [`Num`]s.
pub(crate) fn nums(values: &[f64]) -> Vec<Num> {
    values.iter().copied().map(Num).collect()
}

/// `value` as pretty-printed JSON.
pub(crate) fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).expect("the reports serialize to JSON")
}

/// Writes `value` to `path` as pretty-printed JSON.
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    std::fs::write(path, to_json(value) + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let values = nums(&[1.5, 2.0, 0.0004, -0.0001, 2.0 / 3.0, f64::NAN, 1e20]);
        assert_eq!(
            serde_json::to_string(&values).unwrap(),
            "[1.5,2,0,0,0.667,null,1e+20]"
        );
    }
}

//! The small part of the Cloud Native Buildpacks spec (Buildpack API 0.10) this buildpack
//! speaks, written by hand instead of with libcnb.rs (ARCHITECTURE.md says why): the
//! lifecycle's variables, layer content metadata (`<layer>.toml`) and the exec.d output
//! (`NAME = "value"` lines for file descriptor 3). Pure: it renders text, the edges write it.
//! The TOML comes from `toml_writer` (the writer behind the `toml` crate), never from
//! string formatting, so every value is escaped as TOML requires.

use crate::env::is_env_name;
use toml_writer::{TomlKeyBuilder, TomlStringBuilder, TomlWrite};

/// `bin/build`: this buildpack's own layers directory.
pub(crate) const LAYERS_DIR_VAR: &str = "CNB_LAYERS_DIR";
/// `bin/build`: the platform directory, whose `env/` holds the user's variables.
pub(crate) const PLATFORM_DIR_VAR: &str = "CNB_PLATFORM_DIR";
/// The descriptor the exec.d program writes its variables to, as a path this process can
/// open for writing (a pipe the launcher reads): no raw descriptor, no `unsafe`.
pub(crate) const EXEC_D_OUTPUT: &str = "/proc/self/fd/3";

/// `[types]` of a layer's content metadata: where the layer is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerTypes {
    /// In the app image, for the launcher (and its exec.d programs).
    pub launch: bool,
    /// For the build of later buildpacks.
    pub build: bool,
    /// Kept for the next build.
    pub cache: bool,
}

/// A name the spec does not allow as an exec.d output key.
/// Why the exec.d program's variables did not reach the launcher. None of them carries a
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExecDError {
    /// File descriptor 3 is not open: not run by the launcher (by hand, or by a platform
    /// that does not follow the spec). Nothing is written anywhere else.
    Fd3NotOpen,
    /// Writing to fd 3 failed (e.g. the launcher closed its end).
    Fd3Write(String),
    /// A variable name the spec does not allow: a bug.
    BadVariableName(String),
}

/// `<layer>.toml`: the layer content metadata, with `[types]` only.
pub(crate) fn layer_toml(types: LayerTypes) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_layer_toml(&mut out, types);
    out
}

fn write_layer_toml(out: &mut String, types: LayerTypes) -> std::fmt::Result {
    out.open_table_header()?;
    out.key("types")?;
    out.close_table_header()?;
    out.newline()?;
    for (key, value) in [
        ("launch", types.launch),
        ("build", types.build),
        ("cache", types.cache),
    ] {
        out.key(key)?;
        out.space()?;
        out.keyval_sep()?;
        out.space()?;
        out.value(value)?;
        out.newline()?;
    }
    Ok(())
}

/// The exec.d output: one `NAME = "value"` line per variable, each value a TOML basic
/// string as the spec requires (never a literal or multi-line string).
pub(crate) fn exec_d_output(vars: &[(&str, &str)]) -> Result<String, ExecDError> {
    let mut out = String::new();
    for (name, value) in vars {
        if !is_env_name(name) {
            return Err(ExecDError::BadVariableName((*name).to_string()));
        }
        let key = TomlKeyBuilder::new(name)
            .as_unquoted()
            .ok_or_else(|| ExecDError::BadVariableName((*name).to_string()))?;
        // Writing to a String cannot fail.
        let _ = write_pair(&mut out, key, value);
    }
    Ok(out)
}

fn write_pair(out: &mut String, key: toml_writer::TomlKey<'_>, value: &str) -> std::fmt::Result {
    out.key(key)?;
    out.space()?;
    out.keyval_sep()?;
    out.space()?;
    out.value(TomlStringBuilder::new(value).as_basic())?;
    out.newline()
}

/// A portable environment variable name, which is also a bare TOML key.
#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> toml::Table {
        text.parse::<toml::Table>()
            .unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"))
    }

    #[test]
    fn layer_toml_has_the_types() {
        let text = layer_toml(LayerTypes {
            launch: true,
            build: false,
            cache: false,
        });
        assert_eq!(
            text,
            "[types]\nlaunch = true\nbuild = false\ncache = false\n"
        );
        let table = parse(&text);
        assert_eq!(table["types"]["launch"].as_bool(), Some(true));
        assert_eq!(table["types"]["build"].as_bool(), Some(false));
        assert_eq!(table["types"]["cache"].as_bool(), Some(false));
    }

    /// Every value survives a real TOML parser unchanged, and is written as a basic string
    /// (`"..."` on one line) whatever it holds.
    #[test]
    fn exec_d_values_round_trip_as_basic_strings() {
        let nasty = [
            "plain",
            "",
            "tcp://h:1?auth=a%2Cb&stream[verify_peer]=0",
            "it's \"quoted\" \\ back\\slash",
            "line\nbreak\r\ttab\u{7f}\u{1}",
            "'''\"\"\"",
            ":/layers/x y/conf.d:/layers/é/conf.d",
            "# not a comment",
        ];
        let vars: Vec<(&str, &str)> = nasty
            .iter()
            .enumerate()
            .map(|(i, v)| (["A", "B", "C", "D", "E", "F", "G", "H"][i], *v))
            .collect();
        let text = exec_d_output(&vars).unwrap();
        let table = parse(&text);
        assert_eq!(table.len(), nasty.len());
        for (name, value) in &vars {
            assert_eq!(table[*name].as_str(), Some(*value), "{name}");
        }
        for line in text.lines() {
            let (key, value) = line.split_once(" = ").expect(line);
            assert!(is_env_name(key), "{line}");
            assert!(
                value.starts_with('"') && value.ends_with('"') && !value.starts_with("\"\"\""),
                "not a basic string: {line}"
            );
        }
        assert_eq!(text.lines().count(), nasty.len());
    }

    #[test]
    fn exec_d_output_of_nothing_is_empty() {
        assert_eq!(exec_d_output(&[]).unwrap(), "");
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "1A", "A-B", "A.B", "A B", "É"] {
            assert_eq!(
                exec_d_output(&[(name, "v")]),
                Err(ExecDError::BadVariableName(name.to_string())),
                "{name:?}"
            );
        }
        assert!(exec_d_output(&[("_A1", "v")]).is_ok());
    }
}

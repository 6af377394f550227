//! `--name value` options and `--flag` switches, nothing more.

use std::collections::BTreeMap;
use std::str::FromStr;

pub struct Args {
    values: BTreeMap<String, String>,
}

impl Args {
    pub fn parse(argv: &[String]) -> Result<Args, String> {
        let mut values = BTreeMap::new();
        let mut iter = argv.iter().peekable();
        while let Some(arg) = iter.next() {
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg}"))?;
            let value = match iter.peek() {
                Some(next) if !next.starts_with("--") => iter.next().unwrap().clone(),
                _ => String::from("true"),
            };
            values.insert(name.to_string(), value);
        }
        Ok(Args { values })
    }

    pub fn text(&self, name: &str, default: Option<&str>) -> Result<String, String> {
        self.values
            .get(name)
            .map(String::as_str)
            .or(default)
            .map(str::to_string)
            .ok_or_else(|| format!("--{name} is required"))
    }

    pub fn number<T: FromStr>(&self, name: &str, default: Option<T>) -> Result<T, String> {
        match self.values.get(name) {
            Some(text) => text
                .parse()
                .map_err(|_| format!("--{name} {text}: not a number")),
            None => default.ok_or_else(|| format!("--{name} is required")),
        }
    }

    pub fn float(&self, name: &str, default: Option<f64>) -> Result<f64, String> {
        let value: f64 = self.number(name, default)?;
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(format!("--{name}: must be a non-negative number"))
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| v == "true")
    }
}

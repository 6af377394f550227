//! Does the app get ext-redis from the PHP buildpack? Pure functions over the text of
//! composer.json and composer.lock, following the PHP buildpack's own rules.

use serde_json::{Map, Value};

/// The extension the PHP buildpack must install for this buildpack to make sense.
pub(crate) const EXT_REDIS: &str = "ext-redis";

/// Where `ext-redis` was found: shown in the build log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// composer.json `require` (or `require-dev` when dev packages are installed).
    Manifest { section: &'static str },
    /// composer.lock `platform` (or `platform-dev`).
    LockPlatform { section: &'static str },
    /// The `require` of a locked package (in `packages` or `packages-dev`).
    LockPackage {
        section: &'static str,
        package: String,
    },
}

/// Which file a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Manifest,
    Lock,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposerError {
    /// Not JSON at all: `serde_json`'s line, column and description.
    InvalidJson {
        file: FileKind,
        line: usize,
        column: usize,
        problem: String,
    },
    /// JSON, but a value has a type Composer would reject.
    WrongType {
        file: FileKind,
        path: String,
        expected: &'static str,
        found: &'static str,
    },
}

/// The texts of the two files; `None` for a file that does not exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComposerFiles<'a> {
    pub manifest: Option<&'a str>,
    pub lock: Option<&'a str>,
}

/// Frameworks whose session handling matters here, known by a package of theirs in
/// composer.lock `packages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Framework {
    /// `laravel/framework`: its own session drivers; never PHP's session handler.
    Laravel,
    /// `codeigniter4/framework`: its own session handlers; never PHP's.
    CodeIgniter,
    /// Symfony's `HttpFoundation` sessions (`symfony/http-foundation`, `symfony/symfony`
    /// or `symfony/framework-bundle`): PHP's session handler, through its native session
    /// storage, which registers a wrapper of PHP's own handler (`\SessionHandler`) over
    /// any other. Not counted in a Laravel app, whose sessions are Laravel's though it
    /// ships the package.
    Symfony,
    /// Yii 3's sessions (`yiisoft/session`): like Symfony's, a wrapper of PHP's own
    /// handler registered over any other.
    Yii3,
}

impl Framework {
    /// Its name in the build's fact file.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Framework::Laravel => "laravel",
            Framework::CodeIgniter => "codeigniter",
            Framework::Symfony => "symfony",
            Framework::Yii3 => "yii3",
        }
    }

    pub(crate) fn from_id(id: &str) -> Option<Framework> {
        [
            Framework::Laravel,
            Framework::CodeIgniter,
            Framework::Symfony,
            Framework::Yii3,
        ]
        .into_iter()
        .find(|framework| framework.id() == id.trim())
    }

    /// Whether its sessions never go through PHP's session handler (by default).
    pub(crate) fn bypasses_phps_handler(self) -> bool {
        matches!(self, Framework::Laravel | Framework::CodeIgniter)
    }

    /// Whether it registers a wrapper of PHP's own handler over any other handler, the
    /// buildpack's included.
    pub(crate) fn wraps_phps_handler(self) -> bool {
        matches!(self, Framework::Symfony | Framework::Yii3)
    }
}

/// The package that shows each framework.
pub(crate) const FRAMEWORK_PACKAGES: [(&str, Framework); 6] = [
    ("laravel/framework", Framework::Laravel),
    ("codeigniter4/framework", Framework::CodeIgniter),
    ("symfony/http-foundation", Framework::Symfony),
    ("symfony/framework-bundle", Framework::Symfony),
    ("symfony/symfony", Framework::Symfony),
    ("yiisoft/session", Framework::Yii3),
];

/// The frameworks of these packages' names, sorted, each once; Symfony's `HttpFoundation`
/// not counted under Laravel.
fn frameworks_of<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Framework> {
    let mut frameworks: Vec<Framework> = names.filter_map(framework_of).collect();
    frameworks.sort();
    frameworks.dedup();
    if frameworks.contains(&Framework::Laravel) {
        frameworks.retain(|framework| *framework != Framework::Symfony);
    }
    frameworks
}

fn framework_of(package: &str) -> Option<Framework> {
    FRAMEWORK_PACKAGES
        .iter()
        .find(|(name, _)| package.eq_ignore_ascii_case(name))
        .map(|(_, framework)| *framework)
}

/// What the composer files say: where ext-redis is required, and which frameworks the
/// app is built on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Inspection {
    pub found: Option<Found>,
    pub frameworks: Vec<Framework>,
}

/// Looks for `ext-redis` where the PHP buildpack looks for extensions to install; see
/// [`inspect`].
pub fn find_ext_redis(
    files: ComposerFiles<'_>,
    install_dev: bool,
) -> Result<Option<Found>, ComposerError> {
    inspect(files, install_dev).map(|inspection| inspection.found)
}

/// Looks for `ext-redis` where the PHP buildpack looks for extensions to install, and
/// for the frameworks in composer.lock `packages`.
///
/// The lock file decides when it exists (that is what the PHP buildpack installs from);
/// composer.json `require` counts as well so that an app whose lock is not committed yet
/// still takes part (the PHP buildpack then tells the user to commit the lock).
/// Dev sections count only when `install_dev` (`HEROKU_PHP_INSTALL_DEV`) is set.
pub(crate) fn inspect(
    files: ComposerFiles<'_>,
    install_dev: bool,
) -> Result<Inspection, ComposerError> {
    // The common case fast: a well-formed lock read for the few fields detection needs.
    // Anything unusual in it takes the careful path below, which says what is wrong.
    if let Some(lock) = files.lock
        && let Ok((found, frameworks)) = fast_lock::search(lock, install_dev)
    {
        let manifest = files
            .manifest
            .map(|text| parse(FileKind::Manifest, text))
            .transpose()?;
        let found = match (found, &manifest) {
            (Some(found), _) => Some(found),
            (None, Some(manifest)) => search_manifest(manifest, install_dev)?,
            (None, None) => None,
        };
        return Ok(Inspection { found, frameworks });
    }
    let found = careful(files, install_dev)?;
    let frameworks = files
        .lock
        .and_then(|text| parse(FileKind::Lock, text).ok())
        .map(|lock| frameworks_in(&lock))
        .unwrap_or_default();
    Ok(Inspection { found, frameworks })
}

/// The frameworks among a lock's `packages`, read carefully (a lock the fast reading
/// refused).
fn frameworks_in(lock: &Map<String, Value>) -> Vec<Framework> {
    match lock.get("packages") {
        Some(Value::Array(packages)) => frameworks_of(
            packages
                .iter()
                .filter_map(|package| package.get("name")?.as_str()),
        ),
        _ => vec![],
    }
}

/// Both files read whole, every type checked: the errors say exactly what is wrong.
fn careful(files: ComposerFiles<'_>, install_dev: bool) -> Result<Option<Found>, ComposerError> {
    let lock = files
        .lock
        .map(|text| parse(FileKind::Lock, text))
        .transpose()?;
    let manifest = files
        .manifest
        .map(|text| parse(FileKind::Manifest, text))
        .transpose()?;

    if let Some(lock) = &lock
        && let Some(found) = search_lock(lock, install_dev)?
    {
        return Ok(Some(found));
    }
    match &manifest {
        Some(manifest) => search_manifest(manifest, install_dev),
        None => Ok(None),
    }
}

fn search_manifest(
    manifest: &Map<String, Value>,
    install_dev: bool,
) -> Result<Option<Found>, ComposerError> {
    for section in sections("require", "require-dev", install_dev) {
        if links(FileKind::Manifest, manifest, section, section)?.contains_key(EXT_REDIS) {
            return Ok(Some(Found::Manifest { section }));
        }
    }
    Ok(None)
}

/// composer.lock read for the fields detection needs and nothing else: typed structs
/// that skip every other value unbuilt (a 6 MB lock in a fraction of the time a full
/// `Value` tree takes). `None` for anything it does not expect (invalid JSON, a type
/// Composer would reject, a duplicate key): the careful reading then explains it.
mod fast_lock {
    use super::{EXT_REDIS, Found, Framework, frameworks_of};
    use serde::Deserialize;
    use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    /// A link map (`require`, `platform`): only whether it names ext-redis. PHP writes
    /// an empty map as `[]`; `null` is no map.
    #[derive(Default)]
    struct Links {
        ext_redis: bool,
    }

    impl<'de> Deserialize<'de> for Links {
        fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Links, D::Error> {
            struct LinksVisitor;
            impl<'de> Visitor<'de> for LinksVisitor {
                type Value = Links;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a link map")
                }

                fn visit_unit<E>(self) -> Result<Links, E> {
                    Ok(Links::default())
                }

                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Links, A::Error> {
                    match seq.next_element::<IgnoredAny>()? {
                        None => Ok(Links::default()),
                        Some(_) => Err(de::Error::custom("a list that is not empty")),
                    }
                }

                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Links, A::Error> {
                    let mut ext_redis = false;
                    // Borrowed: a key with an escape in it is an error here, and the
                    // careful reading then reads it.
                    while let Some(name) = map.next_key::<&'de str>()? {
                        ext_redis |= name.eq_ignore_ascii_case(EXT_REDIS);
                        map.next_value::<IgnoredAny>()?;
                    }
                    Ok(Links { ext_redis })
                }
            }
            deserializer.deserialize_any(LinksVisitor)
        }
    }

    /// `T` from a JSON object only: serde would take a struct from an array too.
    struct Object<T>(T);

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
        fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct ObjectVisitor<T>(std::marker::PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
                type Value = Object<T>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }

                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                    T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
                }
            }
            deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
        }
    }

    #[derive(Deserialize)]
    struct Package<'a> {
        #[serde(borrow, default)]
        name: Option<std::borrow::Cow<'a, str>>,
        #[serde(default)]
        require: Option<Links>,
    }

    /// The sections read without dev requirements; `packages-dev` and `platform-dev`
    /// are skipped unread, as the careful reading ignores them too.
    #[derive(Deserialize)]
    struct Lock<'a> {
        #[serde(default)]
        platform: Option<Links>,
        #[serde(borrow, default)]
        packages: Option<Vec<Object<Package<'a>>>>,
    }

    #[derive(Deserialize)]
    struct LockWithDev<'a> {
        #[serde(default)]
        platform: Option<Links>,
        #[serde(rename = "platform-dev", default)]
        platform_dev: Option<Links>,
        #[serde(borrow, default)]
        packages: Option<Vec<Object<Package<'a>>>>,
        #[serde(rename = "packages-dev", borrow, default)]
        packages_dev: Option<Vec<Object<Package<'a>>>>,
    }

    fn platform(section: &'static str, links: Option<&Links>) -> Option<Found> {
        links
            .is_some_and(|links| links.ext_redis)
            .then_some(Found::LockPlatform { section })
    }

    fn packages(
        section: &'static str,
        packages: Option<&Vec<Object<Package<'_>>>>,
    ) -> Option<Found> {
        packages?
            .iter()
            .enumerate()
            .find_map(|(index, Object(package))| {
                package
                    .require
                    .as_ref()?
                    .ext_redis
                    .then(|| Found::LockPackage {
                        section,
                        package: package
                            .name
                            .as_deref()
                            .map_or_else(|| format!("{section}[{index}]"), str::to_string),
                    })
            })
    }

    /// A lock this reading does not handle: the careful reading says what is wrong.
    pub(super) struct Unusual;

    /// Where the lock requires ext-redis (`None`: nowhere), in the order the careful
    /// reading looks.
    pub(super) fn search(
        text: &str,
        install_dev: bool,
    ) -> Result<(Option<Found>, Vec<Framework>), Unusual> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if install_dev {
            let Object(lock): Object<LockWithDev<'_>> =
                serde_json::from_str(text).map_err(|_| Unusual)?;
            let found = platform("platform", lock.platform.as_ref())
                .or_else(|| platform("platform-dev", lock.platform_dev.as_ref()))
                .or_else(|| packages("packages", lock.packages.as_ref()))
                .or_else(|| packages("packages-dev", lock.packages_dev.as_ref()));
            Ok((found, frameworks(lock.packages.as_ref())))
        } else {
            let Object(lock): Object<Lock<'_>> = serde_json::from_str(text).map_err(|_| Unusual)?;
            let found = platform("platform", lock.platform.as_ref())
                .or_else(|| packages("packages", lock.packages.as_ref()));
            Ok((found, frameworks(lock.packages.as_ref())))
        }
    }

    fn frameworks(packages: Option<&Vec<Object<Package<'_>>>>) -> Vec<Framework> {
        frameworks_of(
            packages
                .into_iter()
                .flatten()
                .filter_map(|Object(package)| package.name.as_deref()),
        )
    }
}

fn search_lock(
    lock: &Map<String, Value>,
    install_dev: bool,
) -> Result<Option<Found>, ComposerError> {
    for section in sections("platform", "platform-dev", install_dev) {
        if links(FileKind::Lock, lock, section, section)?.contains_key(EXT_REDIS) {
            return Ok(Some(Found::LockPlatform { section }));
        }
    }
    for section in sections("packages", "packages-dev", install_dev) {
        let packages = match lock.get(section) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(packages)) => packages,
            Some(other) => {
                return Err(wrong_type(
                    FileKind::Lock,
                    section.into(),
                    "an array",
                    other,
                ));
            }
        };
        for (index, package) in packages.iter().enumerate() {
            let path = format!("{section}[{index}]");
            let Value::Object(package) = package else {
                return Err(wrong_type(FileKind::Lock, path, "an object", package));
            };
            let require = links(
                FileKind::Lock,
                package,
                "require",
                &format!("{path}.require"),
            )?;
            if require.contains_key(EXT_REDIS) {
                let name = match package.get("name") {
                    Some(Value::String(name)) => name.clone(),
                    _ => path,
                };
                return Ok(Some(Found::LockPackage {
                    section,
                    package: name,
                }));
            }
        }
    }
    Ok(None)
}

fn sections(main: &'static str, dev: &'static str, install_dev: bool) -> Vec<&'static str> {
    if install_dev {
        vec![main, dev]
    } else {
        vec![main]
    }
}

fn parse(file: FileKind, text: &str) -> Result<Map<String, Value>, ComposerError> {
    // Editors on Windows like to start files with a byte-order mark; Composer reads past it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => Ok(root),
        Ok(other) => Err(wrong_type(
            file,
            "the top level".into(),
            "an object",
            &other,
        )),
        Err(error) => Err(ComposerError::InvalidJson {
            file,
            line: error.line(),
            column: error.column(),
            problem: describe_json_error(&error),
        }),
    }
}

/// `serde_json`'s message without its own " at line X column Y" suffix, which we render ourselves.
fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_string(),
        None => text,
    }
}

/// A Composer link map (`require`, `platform`, ...). PHP's `json_encode` writes an empty
/// map as `[]`, so an empty array is an empty map, and `null` is the same as absent.
fn links<'a>(
    file: FileKind,
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<LinkMap<'a>, ComposerError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(LinkMap(None)),
        Some(Value::Object(map)) => Ok(LinkMap(Some(map))),
        Some(Value::Array(items)) if items.is_empty() => Ok(LinkMap(None)),
        Some(other) => Err(wrong_type(file, path.to_string(), "an object", other)),
    }
}

struct LinkMap<'a>(Option<&'a Map<String, Value>>);

impl LinkMap<'_> {
    /// Package names are case-insensitive in Composer.
    fn contains_key(&self, name: &str) -> bool {
        self.0
            .is_some_and(|map| map.keys().any(|key| key.eq_ignore_ascii_case(name)))
    }
}

fn wrong_type(
    file: FileKind,
    path: String,
    expected: &'static str,
    found: &Value,
) -> ComposerError {
    ComposerError::WrongType {
        file,
        path,
        expected,
        found: match found {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(
        manifest: Option<&str>,
        lock: Option<&str>,
        dev: bool,
    ) -> Result<Option<Found>, ComposerError> {
        find_ext_redis(ComposerFiles { manifest, lock }, dev)
    }

    #[test]
    fn manifest_require() {
        let json = r#"{"require": {"php": "^8.2", "ext-redis": "*"}}"#;
        assert_eq!(
            find(Some(json), None, false),
            Ok(Some(Found::Manifest { section: "require" }))
        );
    }

    #[test]
    fn manifest_require_is_case_insensitive() {
        let json = r#"{"require": {"EXT-Redis": "*"}}"#;
        assert_eq!(
            find(Some(json), None, false),
            Ok(Some(Found::Manifest { section: "require" }))
        );
    }

    #[test]
    fn manifest_without_redis() {
        let json = r#"{"require": {"php": "^8.2", "ext-redis-foo": "*", "ext-mbstring": "*"}}"#;
        assert_eq!(find(Some(json), None, false), Ok(None));
    }

    #[test]
    fn manifest_require_dev_counts_only_with_dev() {
        let json = r#"{"require-dev": {"ext-redis": "*"}}"#;
        assert_eq!(find(Some(json), None, false), Ok(None));
        assert_eq!(
            find(Some(json), None, true),
            Ok(Some(Found::Manifest {
                section: "require-dev"
            }))
        );
    }

    #[test]
    fn lock_platform() {
        let lock = r#"{"packages": [], "platform": {"ext-redis": "*"}}"#;
        assert_eq!(
            find(Some("{}"), Some(lock), false),
            Ok(Some(Found::LockPlatform {
                section: "platform"
            }))
        );
    }

    #[test]
    fn lock_platform_dev_counts_only_with_dev() {
        let lock = r#"{"platform": [], "platform-dev": {"ext-redis": "*"}}"#;
        assert_eq!(find(None, Some(lock), false), Ok(None));
        assert_eq!(
            find(None, Some(lock), true),
            Ok(Some(Found::LockPlatform {
                section: "platform-dev"
            }))
        );
    }

    #[test]
    fn lock_package_require() {
        let lock = r#"{"packages": [
            {"name": "a/b", "require": {"php": ">=8"}},
            {"name": "predis/sessions", "require": {"ext-redis": "^6"}}
        ]}"#;
        assert_eq!(
            find(None, Some(lock), false),
            Ok(Some(Found::LockPackage {
                section: "packages",
                package: "predis/sessions".into()
            }))
        );
    }

    #[test]
    fn lock_package_dev_counts_only_with_dev() {
        let lock =
            r#"{"packages": [], "packages-dev": [{"name": "x/y", "require": {"ext-redis": "*"}}]}"#;
        assert_eq!(find(None, Some(lock), false), Ok(None));
        assert_eq!(
            find(None, Some(lock), true),
            Ok(Some(Found::LockPackage {
                section: "packages-dev",
                package: "x/y".into()
            }))
        );
    }

    #[test]
    fn lock_package_require_dev_does_not_count() {
        // The PHP buildpack never installs the dev requirements of dependencies.
        let lock = r#"{"packages": [{"name": "x/y", "require-dev": {"ext-redis": "*"}}]}"#;
        assert_eq!(find(None, Some(lock), true), Ok(None));
    }

    #[test]
    fn lock_package_without_name_is_named_by_position() {
        let lock = r#"{"packages": [{}, {"require": {"ext-redis": "*"}}]}"#;
        assert_eq!(
            find(None, Some(lock), false),
            Ok(Some(Found::LockPackage {
                section: "packages",
                package: "packages[1]".into()
            }))
        );
    }

    #[test]
    fn lock_wins_over_manifest_for_the_reported_source() {
        let json = r#"{"require": {"ext-redis": "*"}}"#;
        let lock = r#"{"platform": {"ext-redis": "*"}}"#;
        assert_eq!(
            find(Some(json), Some(lock), false),
            Ok(Some(Found::LockPlatform {
                section: "platform"
            }))
        );
    }

    #[test]
    fn manifest_counts_when_lock_lacks_it() {
        let json = r#"{"require": {"ext-redis": "*"}}"#;
        assert_eq!(
            find(Some(json), Some("{}"), false),
            Ok(Some(Found::Manifest { section: "require" }))
        );
    }

    #[test]
    fn no_files_means_no_redis() {
        assert_eq!(find(None, None, true), Ok(None));
    }

    #[test]
    fn empty_arrays_and_nulls_are_empty_maps() {
        let json = r#"{"require": [], "require-dev": null}"#;
        let lock = r#"{"packages": null, "platform": [], "platform-dev": null, "packages-dev": [{"require": []}]}"#;
        assert_eq!(find(Some(json), Some(lock), true), Ok(None));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let json = "\u{feff}{\"require\": {\"ext-redis\": \"*\"}}";
        assert_eq!(
            find(Some(json), None, false),
            Ok(Some(Found::Manifest { section: "require" }))
        );
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let json = "{\n  \"require\": {\n    \"ext-redis\": \"*\",\n  }\n}";
        let Err(ComposerError::InvalidJson {
            file,
            line,
            column,
            problem,
        }) = find(Some(json), None, false)
        else {
            panic!("expected a JSON error");
        };
        assert_eq!((file, line, column), (FileKind::Manifest, 4, 3));
        assert_eq!(problem, "trailing comma");
    }

    #[test]
    fn invalid_lock_is_reported_before_the_manifest() {
        let Err(ComposerError::InvalidJson { file, .. }) = find(Some("{"), Some("nope"), false)
        else {
            panic!("expected a JSON error");
        };
        assert_eq!(file, FileKind::Lock);
    }

    #[test]
    fn empty_file_is_invalid_json() {
        assert!(matches!(
            find(Some(""), None, false),
            Err(ComposerError::InvalidJson {
                line: 1,
                column: 0,
                ..
            })
        ));
    }

    #[test]
    fn wrong_types_are_named() {
        let cases: &[(Option<&str>, Option<&str>, &str, &str)] = &[
            (Some("[]"), None, "the top level", "an array"),
            (Some("42"), None, "the top level", "a number"),
            (Some("null"), None, "the top level", "null"),
            (Some(r#"{"require": 1}"#), None, "require", "a number"),
            (
                Some(r#"{"require": "ext-redis"}"#),
                None,
                "require",
                "a string",
            ),
            (
                Some(r#"{"require": ["ext-redis"]}"#),
                None,
                "require",
                "an array",
            ),
            (None, Some(r#"{"platform": true}"#), "platform", "a boolean"),
            (None, Some(r#"{"packages": {}}"#), "packages", "an object"),
            (
                None,
                Some(r#"{"packages": [1]}"#),
                "packages[0]",
                "a number",
            ),
            (
                None,
                Some(r#"{"packages": [{"require": 3}]}"#),
                "packages[0].require",
                "a number",
            ),
        ];
        for (manifest, lock, path, found) in cases {
            match find(*manifest, *lock, false) {
                Err(ComposerError::WrongType {
                    path: p, found: f, ..
                }) => {
                    assert_eq!((p.as_str(), f), (*path, *found), "{manifest:?} {lock:?}");
                }
                other => panic!("{manifest:?} {lock:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn wrong_type_in_dev_section_ignored_without_dev() {
        let lock = r#"{"packages-dev": 5, "platform-dev": "x"}"#;
        assert_eq!(find(None, Some(lock), false), Ok(None));
    }

    #[test]
    fn the_fast_reading_agrees_with_the_careful_one() {
        let locks = [
            "{}",
            r#"{"platform": {"ext-redis": "*"}}"#,
            r#"{"platform": [], "packages": []}"#,
            r#"{"platform": null, "packages": null}"#,
            r#"{"platform": {"EXT-REDIS": "*"}}"#,
            r#"{"platform-dev": {"ext-redis": "*"}}"#,
            r#"{"packages": [{"name": "a/b", "require": {"ext-redis": "^6"}}]}"#,
            r#"{"packages": [{"require": {"ext-redis": "^6"}}]}"#,
            r#"{"packages": [{"name": "a/b", "require": []}, {"name": "c/d", "require": {"ext-redis": "*"}}]}"#,
            r#"{"packages-dev": [{"name": "a/b", "require": {"ext-redis": "*"}}]}"#,
            r#"{"packages": [{"name": "a/b", "require": {"ext-redis": "*"}}]}"#,
            r#"{"packages": [{"name": "a/b", "require": {"ext-redis": "*"}}]}"#,
            "\u{feff}{\"platform\": {\"ext-redis\": \"*\"}}",
            r#"{"platform": {}, "platform": {"ext-redis": "*"}}"#,
            r#"{"packages": [{"name": 5, "require": {"ext-redis": "*"}}]}"#,
            r#"{"packages": [{"name": "a/b", "require": {"php": ">=8"}}, "oops"]}"#,
            r#"{"packages": [{"name": "a/b", "require": ["x"]}]}"#,
            r#"{"packages": {"name": "a/b"}}"#,
            r#"{"packages-dev": 5, "platform-dev": "x"}"#,
            "[]",
            r#"{"packages": [}"#,
            r#"{"packages": [["a/b", {"ext-redis": "*"}]]}"#,
            r#"{"platform": 7}"#,
            r#"{"packages": [{"name": "laravel/framework"}, {"name": "symfony/http-foundation", "require": {"ext-redis": "*"}}, {"name": "Laravel/Framework"}]}"#,
            r#"{"packages": [{"name": "symfony/http-foundation"}, {"name": "symfony/framework-bundle"}]}"#,
            r#"{"packages-dev": [{"name": "codeigniter4/framework"}], "packages": [{"name": "x/y"}]}"#,
            r#"{"content-hash": "x", "packages": [{"name": "a/b", "version": "1", "extra": {"deep": [1, {"ext-redis": 1}]}}]}"#,
        ];
        let manifests = [None, Some(r#"{"require": {"ext-redis": "*"}}"#), Some("{")];
        for lock in locks {
            for manifest in manifests {
                for dev in [false, true] {
                    let files = ComposerFiles {
                        manifest,
                        lock: Some(lock),
                    };
                    assert_eq!(
                        find_ext_redis(files, dev),
                        careful(files, dev),
                        "{lock} {manifest:?} {dev}"
                    );
                    if let Ok(inspection) = inspect(files, dev) {
                        let careful_frameworks = parse(FileKind::Lock, lock)
                            .map(|lock| frameworks_in(&lock))
                            .unwrap_or_default();
                        assert_eq!(inspection.frameworks, careful_frameworks, "{lock}");
                    }
                }
            }
        }
        // The common case is the fast one.
        assert!(fast_lock::search(locks[6], false).is_ok());
    }

    #[test]
    fn frameworks_from_the_locked_packages() {
        let lock = r#"{"packages": [
            {"name": "symfony/http-foundation"},
            {"name": "laravel/framework", "require": {"ext-redis": "*"}},
            {"name": "CodeIgniter4/Framework"}
        ], "packages-dev": [{"name": "symfony/framework-bundle"}]}"#;
        for dev in [false, true] {
            let inspection = inspect(
                ComposerFiles {
                    manifest: None,
                    lock: Some(lock),
                },
                dev,
            )
            .unwrap();
            assert_eq!(
                inspection.frameworks,
                [Framework::Laravel, Framework::CodeIgniter],
                "dev sections never count: their code does not run on the dyno; \
                 Laravel ships Symfony's HttpFoundation but keeps its own sessions"
            );
            assert!(inspection.found.is_some());
        }
        let symfony = r#"{"packages": [{"name": "symfony/http-foundation"}, {"name": "a/b"}]}"#;
        let inspection = inspect(
            ComposerFiles {
                manifest: None,
                lock: Some(symfony),
            },
            false,
        )
        .unwrap();
        assert_eq!(inspection.frameworks, [Framework::Symfony]);
    }
}

//! The runner's own keys (contract section 6): the webhook signing secret, the seller tokens'
//! HS256 key and the download-link key. No key written in the code ever signs or verifies what
//! the runner serves: a key the environment does not give is read from a keys file outside the
//! repository, made with random bytes at the first start.
//!
//! The file is `--keys-file` / `LEENKIES_KEYS_FILE`, else `leenkies/local-keys.json` under the
//! user's configuration folder (`$XDG_CONFIG_HOME`, else `$HOME/.config`). It is created with
//! mode 0600 in a folder of mode 0700, whole or not at all (written aside, then linked into
//! place, so two runners starting at once read the same keys), and kept: `token` and
//! `send-event` read the same file, and download links already emailed keep working after a
//! restart.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The keys file's name under the configuration folder.
const DEFAULT_RELATIVE: &str = "leenkies/local-keys.json";

/// The three keys, as kept in the file.
#[derive(Clone, Serialize, Deserialize)]
pub struct LocalKeys {
    pub webhook_secret: String,
    pub jwt_secret: String,
    pub download_key: String,
}

impl std::fmt::Debug for LocalKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKeys(redacted)")
    }
}

/// A loaded keys file: where it is, its keys, and whether this start made it.
#[derive(Debug, Clone)]
pub struct KeysFile {
    pub path: PathBuf,
    pub keys: LocalKeys,
    pub created: bool,
}

/// 256 random bits as 64 hex digits, from the operating system's generator (through `uuid`'s
/// v4 ids: 122 random bits each, three of them).
pub fn random_hex() -> String {
    (0..3)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect::<String>()
        .chars()
        .take(64)
        .collect()
}

impl LocalKeys {
    pub fn random() -> Self {
        Self {
            webhook_secret: format!("whsec_{}", random_hex()),
            jwt_secret: random_hex(),
            download_key: random_hex(),
        }
    }
}

/// Where the keys file is: `explicit` (the flag or `LEENKIES_KEYS_FILE`), else the user's
/// configuration folder.
pub fn path(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let env = leenkies_adapters::config::Env::process();
    if let Some(xdg) = env
        .optional("XDG_CONFIG_HOME")
        .filter(|x| Path::new(x).is_absolute())
    {
        return Ok(Path::new(&xdg).join(DEFAULT_RELATIVE));
    }
    let Some(home) = env.optional("HOME") else {
        return Err(
            "no HOME or XDG_CONFIG_HOME to keep the runner's keys in: set --keys-file (LEENKIES_KEYS_FILE) or the keys themselves (STRIPE_WEBHOOK_SECRET, LEENKIES_JWT_SECRET, DOWNLOAD_SIGNING_KEY)"
                .into(),
        );
    };
    Ok(Path::new(&home).join(".config").join(DEFAULT_RELATIVE))
}

/// Reads the keys file at `path`, making it with random keys when there is none.
pub fn load_or_create(path: &Path) -> Result<KeysFile, String> {
    match read(path) {
        Ok(keys) => {
            return Ok(KeysFile {
                path: path.to_path_buf(),
                keys,
                created: false,
            })
        }
        Err(ReadError::Missing) => {}
        Err(ReadError::Other(e)) => return Err(e),
    }
    let keys = LocalKeys::random();
    let created = write_new(path, &keys)?;
    // Another runner may have made it between the read and the link: its keys win.
    let keys = if created {
        keys
    } else {
        read(path).map_err(|e| match e {
            ReadError::Missing => format!("{}: vanished while being made", path.display()),
            ReadError::Other(e) => e,
        })?
    };
    Ok(KeysFile {
        path: path.to_path_buf(),
        keys,
        created,
    })
}

enum ReadError {
    Missing,
    Other(String),
}

fn read(path: &Path) -> Result<LocalKeys, ReadError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(e) => return Err(ReadError::Other(format!("{}: {e}", path.display()))),
    };
    let keys: LocalKeys = serde_json::from_slice(&bytes).map_err(|e| {
        ReadError::Other(format!(
            "{}: not a keys file ({e}); remove it to make new keys",
            path.display()
        ))
    })?;
    let too_short = [&keys.webhook_secret, &keys.jwt_secret, &keys.download_key]
        .iter()
        .any(|k| k.trim().len() < 32);
    if too_short {
        return Err(ReadError::Other(format!(
            "{}: a key is shorter than 32 characters; remove the file to make new keys",
            path.display()
        )));
    }
    Ok(keys)
}

/// Writes `keys` at `path` unless a file is already there: `true` when this call made it.
fn write_new(path: &Path, keys: &LocalKeys) -> Result<bool, String> {
    let shown = path.display();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let aside = dir.join(format!(
        ".local-keys-{}-{}.tmp",
        std::process::id(),
        &random_hex()[..8]
    ));
    let body = serde_json::to_vec_pretty(keys).map_err(|e| e.to_string())?;
    let written = (|| {
        let mut file = private_file(&aside)?;
        file.write_all(&body)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&aside);
        return Err(format!("{}: {e}", aside.display()));
    }
    // A hard link never replaces a file: whoever links first made the keys.
    let linked = std::fs::hard_link(&aside, path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(format!("{shown}: {e}")),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_no_keys_file_when_started_twice_then_random_keys_are_made_once_and_kept() {
        // GIVEN an empty folder
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/keys.json");
        // WHEN the keys are loaded twice
        let first = load_or_create(&path).unwrap();
        let second = load_or_create(&path).unwrap();
        // THEN the first start made them, the second read the same ones
        assert!(first.created);
        assert!(!second.created);
        assert_eq!(first.keys.jwt_secret, second.keys.jwt_secret);
        assert_eq!(first.keys.download_key, second.keys.download_key);
        assert_eq!(first.keys.webhook_secret, second.keys.webhook_secret);
        // AND every key is 256 random bits, different from the others and from another file's
        assert_eq!(first.keys.jwt_secret.len(), 64);
        assert!(first.keys.webhook_secret.starts_with("whsec_"));
        assert_ne!(first.keys.jwt_secret, first.keys.download_key);
        let other = load_or_create(&dir.path().join("other.json")).unwrap();
        assert_ne!(other.keys.jwt_secret, first.keys.jwt_secret);
        // AND only the owner can read the file
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // AND no file is left aside
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn given_a_damaged_or_weak_keys_file_when_loaded_then_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        std::fs::write(&path, b"not json").unwrap();
        assert!(load_or_create(&path)
            .unwrap_err()
            .contains("not a keys file"));
        std::fs::write(
            &path,
            br#"{"webhook_secret":"whsec_x","jwt_secret":"short","download_key":"k"}"#,
        )
        .unwrap();
        assert!(load_or_create(&path).unwrap_err().contains("shorter"));
    }

    #[test]
    fn given_an_explicit_path_when_resolved_then_it_wins() {
        let p = Path::new("/tmp/x/keys.json");
        assert_eq!(path(Some(p)).unwrap(), p);
    }
}

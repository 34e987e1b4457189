//! `mannequin admin backup` and `restore`, for the embedded installation:
//! the SQLite database and the images on local disk.
//!
//! The database is copied with `VACUUM INTO`, which reads one consistent
//! snapshot while the service goes on serving and writing. The images are
//! copied after it: an image is written (to a temporary file, renamed into
//! place) before any row names it and never changed afterwards, so every
//! image the snapshot names is on disk by then. The backup then checks
//! itself: every image its database names must be in it, or the command
//! says which are missing and fails.
//!
//! PostgreSQL, S3 and NATS are backed up with their own tools (docs/deploy.md).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::config::DbArgs;
use crate::error::BoxError;

/// The database's file name, in the data directory and in a backup.
const DATABASE: &str = "mannequin.db";
/// The images' folder, in the data directory and in a backup.
const MEDIA: &str = "media";
/// What a backup says of itself.
const MANIFEST: &str = "backup.json";

/// The SQLite file `db` names, or why there is none to copy.
fn sqlite_file(db: &DbArgs) -> Result<PathBuf, BoxError> {
    match &db.database_url {
        None => Ok(db.data_dir.join(DATABASE)),
        Some(url) => {
            let url = crate::ExposeSecret::expose_secret(url);
            match url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                Some(path) => Ok(PathBuf::from(path.split('?').next().unwrap_or(path))),
                None => Err(
                    "admin backup copies the embedded SQLite database; back up PostgreSQL \
                     with pg_dump or its point-in-time recovery (docs/deploy.md, Backups)"
                        .into(),
                ),
            }
        }
    }
}

/// An empty folder at `dir` (made if missing); a folder holding anything is refused.
fn empty_folder(dir: &Path, what: &str) -> Result<(), BoxError> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(format!("{what} {} is not empty", dir.display()).into());
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Copies the files under `from` to `to`, leaving out the temporary files
/// of writes in progress. Returns how many files and bytes.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    if !from.exists() {
        return Ok((0, 0));
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            let (f, b) = copy_tree(&entry.path(), &target)?;
            files += f;
            bytes += b;
        } else if kind.is_file() && !is_temporary(&entry.file_name().to_string_lossy()) {
            match std::fs::copy(entry.path(), &target) {
                Ok(n) => {
                    files += 1;
                    bytes += n;
                }
                // Deleted since it was listed: no row names it any more.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok((files, bytes))
}

/// A write in progress: `<key>.tmp<hex>` (see the local blob store).
fn is_temporary(name: &str) -> bool {
    name.rsplit_once(".tmp")
        .is_some_and(|(_, hex)| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The images the database at `path` names.
fn named_images(path: &Path) -> Result<Vec<String>, BoxError> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut keys = Vec::new();
    for sql in [
        "SELECT image_key FROM models WHERE image_key IS NOT NULL",
        "SELECT thumb_key FROM models WHERE thumb_key IS NOT NULL",
        "SELECT image_key FROM products",
        "SELECT thumb_key FROM products",
        "SELECT cover_key FROM presets WHERE cover_key IS NOT NULL",
    ] {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for key in rows {
            keys.push(key?);
        }
    }
    let mut stmt = conn.prepare("SELECT gallery_keys FROM presets")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    for gallery in rows {
        keys.extend(serde_json::from_str::<Vec<String>>(&gallery?)?);
    }
    Ok(keys)
}

/// Which of `keys` have no file under `media`.
fn missing(media: &Path, keys: &[String]) -> Vec<String> {
    keys.iter()
        .filter(|k| !media.join(k).is_file())
        .cloned()
        .collect()
}

/// Backs up the database and images `db` names into `to` (made, or empty).
/// `Ok((report, complete))`: complete when every image the copied database
/// names is in the backup.
pub async fn backup(db: &DbArgs, to: &Path) -> Result<(Value, bool), BoxError> {
    let source = sqlite_file(db)?;
    if !source.is_file() {
        return Err(format!("no database at {}", source.display()).into());
    }
    empty_folder(to, "--to")?;
    let media = db.data_dir.join(MEDIA);
    let to = to.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let copy = to.join(DATABASE);
        let conn = rusqlite::Connection::open_with_flags(
            &source,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute("VACUUM INTO ?1", [copy.to_string_lossy()])?;
        drop(conn);
        let database_bytes = std::fs::metadata(&copy)?.len();
        let (images, image_bytes) = copy_tree(&media, &to.join(MEDIA))?;
        let named = named_images(&copy)?;
        let absent = missing(&to.join(MEDIA), &named);
        let report = json!({
            "backup": to.display().to_string(),
            "createdAt": mannequin_domain::time::Millis(crate::clock::now_ms())
                .rfc3339()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            "version": env!("CARGO_PKG_VERSION"),
            "databaseBytes": database_bytes,
            "images": images,
            "imageBytes": image_bytes,
            "imagesNamed": named.len(),
            "imagesMissing": absent,
            "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        });
        std::fs::write(to.join(MANIFEST), serde_json::to_vec_pretty(&report)?)?;
        Ok((report, absent.is_empty()))
    })
    .await?
}

/// Restores the backup in `from` into the data directory `db` names, which
/// must hold no database and no images yet; checks the database's integrity
/// and that every image it names arrived.
pub async fn restore(db: &DbArgs, from: &Path) -> Result<(Value, bool), BoxError> {
    if db.database_url.is_some() {
        return Err(
            "admin restore writes the embedded SQLite database into --data-dir; \
                    leave --database-url unset"
                .into(),
        );
    }
    if !from.join(MANIFEST).is_file() || !from.join(DATABASE).is_file() {
        return Err(format!(
            "{} is not a backup (no {MANIFEST} and {DATABASE})",
            from.display()
        )
        .into());
    }
    let data = db.data_dir.clone();
    if data.join(DATABASE).exists() || data.join(MEDIA).exists() {
        return Err(format!(
            "--data-dir {} already holds a database or images; restore into an empty one",
            data.display()
        )
        .into());
    }
    std::fs::create_dir_all(&data)?;
    let from = from.to_path_buf();
    tokio::task::spawn_blocking(move || {
        // The database last, under a temporary name until it is whole: a
        // data directory with a database in it is a restored one.
        let (images, image_bytes) = copy_tree(&from.join(MEDIA), &data.join(MEDIA))?;
        let partial = data.join(format!("{DATABASE}.restoring"));
        std::fs::copy(from.join(DATABASE), &partial)?;
        let check: String =
            rusqlite::Connection::open(&partial)?
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check != "ok" {
            std::fs::remove_file(&partial)?;
            return Err(format!("the backup's database is damaged: {check}").into());
        }
        std::fs::rename(&partial, data.join(DATABASE))?;
        let named = named_images(&data.join(DATABASE))?;
        let absent = missing(&data.join(MEDIA), &named);
        let report = json!({
            "restored": data.display().to_string(),
            "from": from.display().to_string(),
            "images": images,
            "imageBytes": image_bytes,
            "imagesNamed": named.len(),
            "imagesMissing": absent,
        });
        Ok((report, absent.is_empty()))
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_in_progress_are_left_out() {
        assert!(is_temporary("img/ab/model_x.tmp0a1b2c3d4e5f"));
        assert!(!is_temporary("img/ab/model_x.png"));
        assert!(!is_temporary("notes.tmp"));
        assert!(!is_temporary("x.tmpl"));
    }
}

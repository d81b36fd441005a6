//! Object-store locations: turns a user's URL (plain path, `file://`, `s3://`, `gs://`, `az://`,
//! `memory://`) into a store plus a prefix inside it, and registers the store with DataFusion so
//! SQL can read what the pipeline writes. Owns nothing about what is stored; that is `inputs`
//! and `outputs`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::prelude::SessionContext;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use url::Url;

use crate::config::StorageSettings;
use crate::error::{Error, Result};

/// A folder in an object store: the store, the URL of its root (what DataFusion keys stores by)
/// and the prefix below that root.
#[derive(Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    root: Url,
    prefix: Path,
}

/// `memory://NAME` stores live for the whole process, so a test can write input with one call
/// and read it with the next.
static MEMORY_STORES: LazyLock<Mutex<HashMap<String, Arc<InMemory>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl Location {
    /// Parses a location. `create` makes a missing local folder (for outputs); inputs must exist.
    pub fn parse(text: &str, create: bool) -> Result<Self> {
        Self::parse_with(text, create, &StorageSettings::default())
    }

    /// Like [`Location::parse`], with retry settings for remote stores: transient errors
    /// (timeouts, 5xx, throttling) are retried with exponential backoff.
    pub fn parse_with(text: &str, create: bool, settings: &StorageSettings) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::Usage("empty location: give a path or a URL".into()));
        }
        match Url::parse(text) {
            Ok(url) if url.scheme().len() > 1 => Self::from_url(text, url, create, settings),
            // No scheme (or a Windows drive letter): a local path.
            _ => Self::local(std::path::Path::new(text), create),
        }
    }

    fn from_url(text: &str, url: Url, create: bool, settings: &StorageSettings) -> Result<Self> {
        let retry = object_store::RetryConfig {
            max_retries: settings.retries,
            retry_timeout: settings.retry_timeout,
            ..object_store::RetryConfig::default()
        };
        let bucket = || -> Result<String> {
            url.host_str()
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .ok_or_else(|| Error::Usage(format!("location '{text}' names no bucket")))
        };
        let prefix = Path::from_url_path(url.path())
            .map_err(|e| Error::Usage(format!("location '{text}': {e}")))?;
        let configure = |e: object_store::Error| {
            Error::Usage(format!("cannot configure a store for '{text}': {e}"))
        };
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| Error::Usage(format!("'{text}' is not a valid file URL")))?;
                return Self::local(&path, create);
            }
            "s3" | "s3a" => Arc::new(
                AmazonS3Builder::from_env()
                    .with_bucket_name(bucket()?)
                    .with_retry(retry)
                    .build()
                    .map_err(configure)?,
            ),
            "gs" => Arc::new(
                GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket()?)
                    .with_retry(retry)
                    .build()
                    .map_err(configure)?,
            ),
            "az" | "abfs" | "abfss" | "azure" => Arc::new(
                MicrosoftAzureBuilder::from_env()
                    .with_url(text)
                    .with_retry(retry)
                    .build()
                    .map_err(configure)?,
            ),
            "memory" => {
                let name = url.host_str().unwrap_or("").to_string();
                let mut stores = MEMORY_STORES
                    .lock()
                    .map_err(|_| Error::Usage("memory store registry poisoned".into()))?;
                stores
                    .entry(name)
                    .or_insert_with(|| Arc::new(InMemory::new()))
                    .clone()
            }
            other => {
                return Err(Error::Usage(format!(
                    "unsupported location scheme '{other}' in '{text}': use a path, file://, s3://, gs://, az:// or memory://"
                )));
            }
        };
        let root = Url::parse(&format!(
            "{}://{}",
            url.scheme(),
            url.host_str().unwrap_or("")
        ))
        .map_err(|e| Error::Usage(format!("location '{text}': {e}")))?;
        Ok(Self {
            store,
            root,
            prefix,
        })
    }

    fn local(path: &std::path::Path, create: bool) -> Result<Self> {
        if create {
            std::fs::create_dir_all(path).map_err(|e| {
                Error::output(path.display(), format!("cannot create the folder: {e}"))
            })?;
        }
        let absolute = std::fs::canonicalize(path).map_err(|e| {
            Error::input(
                path.display(),
                format!("{e}; check the path (it must be an existing folder)"),
            )
        })?;
        let prefix = Path::from_absolute_path(&absolute)
            .map_err(|e| Error::Usage(format!("path '{}': {e}", path.display())))?;
        Ok(Self {
            // Removing a file also removes folders it leaves empty, so staging leaves no debris.
            store: Arc::new(LocalFileSystem::new().with_automatic_cleanup(true)),
            root: Url::parse("file:///").map_err(|e| Error::Usage(e.to_string()))?,
            prefix,
        })
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// The path of `relative` (slash-separated) below this location.
    pub fn path(&self, relative: &str) -> Path {
        let mut path = self.prefix.clone();
        for part in relative.split('/').filter(|p| !p.is_empty()) {
            path = path.join(part);
        }
        path
    }

    /// This location shifted to `relative` below it, in the same store.
    pub fn join(&self, relative: &str) -> Location {
        Location {
            store: self.store.clone(),
            root: self.root.clone(),
            prefix: self.path(relative),
        }
    }

    /// A URL DataFusion can resolve for a path of this store, e.g. `s3://bucket/a/b`.
    pub fn url_of(&self, path: &Path) -> String {
        if self.root.scheme() == "file" {
            return format!("file:///{path}");
        }
        let root = self.root.as_str().trim_end_matches('/');
        format!("{root}/{path}")
    }

    /// Makes this store reachable from SQL (ListingTable URLs with this root).
    pub fn register(&self, ctx: &SessionContext) {
        ctx.register_object_store(&self.root, self.store.clone());
    }
}

/// Shown in logs and the manifest: scheme, bucket and prefix; never credentials.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url_of(&self.prefix))
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_become_file_urls() {
        let dir = std::env::temp_dir();
        let loc = Location::parse(&dir.display().to_string(), false).expect("temp dir exists");
        assert!(loc.to_string().starts_with("file:///"), "{loc}");
        assert_eq!(loc.path("a/b"), loc.prefix().clone().join("a").join("b"));
    }

    #[test]
    fn memory_stores_are_shared_by_name() {
        let a = Location::parse("memory://shared-test/x", false).expect("memory url");
        let b = Location::parse("memory://shared-test/y", false).expect("memory url");
        assert!(Arc::ptr_eq(a.store(), b.store()));
        assert_eq!(a.to_string(), "memory://shared-test/x");
    }

    #[test]
    fn unknown_scheme_is_a_usage_error() {
        let err = Location::parse("ftp://host/x", false).expect_err("ftp unsupported");
        assert!(
            err.to_string()
                .contains("unsupported location scheme 'ftp'")
        );
    }

    #[test]
    fn missing_local_input_names_the_path() {
        let err = Location::parse("/definitely/not/here", false).expect_err("missing");
        assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    }
}

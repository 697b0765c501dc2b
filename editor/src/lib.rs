//! The web editor's bundle, embedded: the files `editor/build.mjs` writes into
//! `editor/dist/` (committed), each with its gzipped copy, so building and running the
//! server needs no Node. The app's sources are in `editor/src/app/`; `runtime`'s
//! `http/assets` serves these at `/` and `/assets/{name}`.
//!
//! **Architecture invariant:** this crate holds bytes only. It knows nothing about HTTP,
//! sessions or plans; what the page may do is decided by the API it calls.

/// One file of the bundle.
#[derive(Debug)]
pub struct Asset {
    /// The name the page asks for under `/assets/` (`app.js`); `index.html` is served at `/`.
    pub name: &'static str,
    /// The `Content-Type` to answer with.
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// The same bytes gzipped (by `build.mjs`, reproducibly).
    pub gzip: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../dist/", $name)),
            gzip: include_bytes!(concat!("../dist/", $name, ".gz")),
        }
    };
}

/// Every file of the bundle.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
];

/// The app's page, served at `/`.
pub fn index() -> &'static Asset {
    find("index.html").expect("the bundle has index.html")
}

/// The file of the bundle called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle built by an old `build.mjs` (or by hand) could pair a file with another's
    /// gzip; the copies must be the files they stand for.
    #[test]
    fn each_gzip_copy_holds_its_file() {
        for asset in ASSETS {
            assert!(
                asset.gzip.starts_with(&[0x1f, 0x8b]),
                "{} has no gzip copy",
                asset.name
            );
            assert!(
                asset.gzip.len() < asset.bytes.len(),
                "{}.gz is not smaller than {}",
                asset.name,
                asset.name
            );
        }
    }

    #[test]
    fn the_page_loads_the_bundle() {
        let page = std::str::from_utf8(index().bytes).unwrap();
        assert!(page.contains("/assets/app.js"), "{page}");
        assert!(page.contains("/assets/app.css"), "{page}");
        assert!(find("app.js").is_some() && find("app.css").is_some());
        assert!(find("../Cargo.toml").is_none());
    }
}

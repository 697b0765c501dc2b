//! The web apps' bundle, embedded: the files `editor/build.mjs` writes into
//! `editor/dist/` (committed), each with its gzipped copy, so building and running the
//! server needs no Node. The admin's editor (sources in `editor/src/app/`) is served by
//! `runtime`'s `http/assets` at `/` and `/assets/{name}`; the people's web client
//! (`editor/src/client/`) at `/client/` and `/client/{name}`; the live-chat widget
//! websites include (`editor/src/widget/`) at `/chat/widget.js`.
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
    asset!("client.html", "text/html; charset=utf-8"),
    asset!("client.js", "text/javascript; charset=utf-8"),
    asset!("client.css", "text/css; charset=utf-8"),
    asset!("widget.js", "text/javascript; charset=utf-8"),
];

/// The editor's page, served at `/`.
pub fn index() -> &'static Asset {
    find("index.html").expect("the bundle has index.html")
}

/// The people's web client's page, served at `/client/`.
pub fn client_page() -> &'static Asset {
    find("client.html").expect("the bundle has client.html")
}

/// Whether `asset` is one of the pages (served at their own addresses, never as a file).
pub fn is_page(asset: &Asset) -> bool {
    asset.name.ends_with(".html")
}

/// The file of the bundle called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle built by an old `build.mjs` (or by hand, or a `.gz` left from an earlier
    /// build) could pair a file with another's gzip; a browser that takes gzip would then
    /// get other code than one that does not. Each copy must inflate to its file.
    #[test]
    fn each_gzip_copy_holds_its_file() {
        use std::io::Read;
        for asset in ASSETS {
            let mut inflated = Vec::new();
            flate2::read::GzDecoder::new(asset.gzip)
                .read_to_end(&mut inflated)
                .unwrap_or_else(|e| panic!("{}.gz is not gzip: {e}", asset.name));
            assert!(
                inflated == asset.bytes,
                "{}.gz does not inflate to {}: run `npm run build` in editor/",
                asset.name,
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

    #[test]
    fn the_client_page_loads_its_own_bundle() {
        let page = std::str::from_utf8(client_page().bytes).unwrap();
        assert!(page.contains("/client/client.js"), "{page}");
        assert!(page.contains("/client/client.css"), "{page}");
        assert!(!page.contains("app.js"), "{page}");
        assert!(find("client.js").is_some() && find("client.css").is_some());
        assert!(is_page(client_page()) && is_page(index()));
    }
}

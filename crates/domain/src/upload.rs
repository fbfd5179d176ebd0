//! Uploaded files as the rest of the platform refers to them: the key syntax, the only image
//! references a user may set (a path of one of their own uploads), and the daily quota.
//!
//! A key is the SHA-256 of the stored bytes in 64 lowercase hex digits, a dot and `png`, `jpg`
//! or `webp`. Nothing else parses, so a reference can never name another route
//! (`/api/files/../../api/auth/kakao`) or another host (`http://attacker.example/t.gif`).

use crate::validation::{Invalid, Reason};

/// Where uploads are served: an image reference is this prefix and a key.
pub const FILES_PATH: &str = "/api/files/";

/// The extensions a stored file may have.
pub const EXTENSIONS: [&str; 3] = ["png", "jpg", "webp"];

/// Whether `text` is exactly a file key (`<64 lowercase hex>.<png|jpg|webp>`).
pub fn is_file_key(text: &str) -> bool {
    let Some((hash, extension)) = text.split_once('.') else {
        return false;
    };
    EXTENSIONS.contains(&extension)
        && hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The key an image reference names when it is exactly `/api/files/<key>`; `None` for
/// anything else (other URLs, other paths, a malformed key).
pub fn key_of(reference: &str) -> Option<&str> {
    reference
        .strip_prefix(FILES_PATH)
        .filter(|key| is_file_key(key))
}

/// The path an upload is served at.
pub fn path_of(key: &str) -> String {
    format!("{FILES_PATH}{key}")
}

/// An image reference a user sets (profile image, challenge thumbnail): only the path of an
/// upload. Whether it is the user's own upload is the store's to check (it holds the records).
pub fn uploaded_image(field: &'static str, value: &str) -> Result<String, Invalid> {
    key_of(value).map(path_of).ok_or(Invalid::new(
        field,
        Reason::Format {
            expected: "the url of one of your uploads (/api/files/<key> from POST /api/uploads)",
        },
    ))
}

/// How much one user may upload per day (in the server's timezone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    /// Uploads per day; 0: no limit.
    pub files: i64,
    /// Stored bytes per day; 0: no limit.
    pub bytes: i64,
}

/// What a user has uploaded so far today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UploadUsage {
    pub files: i64,
    pub bytes: i64,
}

impl UploadQuota {
    /// Whether one more upload of `size` stored bytes stays within the quota after `used`.
    /// `size` 0 asks whether any upload at all is still allowed (checked before decoding).
    pub fn allows(&self, used: UploadUsage, size: i64) -> bool {
        (self.files == 0 || used.files < self.files)
            && (self.bytes == 0 || used.bytes.saturating_add(size) <= self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_upload_paths_are_image_references() {
        let key = format!("{}.webp", "0123456789abcdef".repeat(4));
        let path = format!("/api/files/{key}");
        assert_eq!(key_of(&path), Some(key.as_str()));
        assert_eq!(uploaded_image("profileImage", &path), Ok(path.clone()));
        for bad in [
            "http://attacker.example/track.gif".to_owned(),
            "https://example.com/a.png".to_owned(),
            "/api/files/../../api/auth/kakao".to_owned(),
            format!("/api/files/{key}?x=1"),
            format!("/api/files/{key}/"),
            format!("/api/files//{key}"),
            format!("/api/files/{}", key.to_uppercase()),
            format!("/api/files/{}.gif", &key[..64]),
            format!("//api/files/{key}"),
            format!("https://ssgwan.example/api/files/{key}"),
            "/api/files/".to_owned(),
            String::new(),
        ] {
            assert_eq!(key_of(&bad), None, "{bad}");
            assert!(uploaded_image("thumbnail", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_quota_counts_files_and_bytes_and_zero_means_unlimited() {
        let quota = UploadQuota {
            files: 2,
            bytes: 100,
        };
        let used = |files, bytes| UploadUsage { files, bytes };
        assert!(quota.allows(used(0, 0), 100));
        assert!(!quota.allows(used(0, 0), 101));
        assert!(quota.allows(used(1, 60), 40));
        assert!(!quota.allows(used(1, 60), 41));
        assert!(!quota.allows(used(2, 0), 1));
        assert!(!quota.allows(used(2, 0), 0));
        let unlimited = UploadQuota { files: 0, bytes: 0 };
        assert!(unlimited.allows(used(1_000_000, i64::MAX), i64::MAX));
    }
}

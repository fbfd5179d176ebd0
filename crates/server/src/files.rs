//! Uploaded files (profile images, challenge thumbnails): what an upload becomes and where it
//! is kept.
//!
//! An upload is accepted only if its bytes are a PNG, JPEG or WebP image (never judged from its
//! name or declared type), of bounded dimensions (checked from the header, before any pixel
//! buffer is allocated), that decodes completely. It is then decoded and re-encoded in its own
//! format, which drops every piece of metadata (EXIF with GPS positions, text chunks, ICC
//! profiles, trailing data) and anything a polyglot file hid after the image. The stored name
//! is the SHA-256 of the stored bytes plus the extension: identical uploads share one object,
//! and an object never changes, so it can be cached forever.
//!
//! Objects live behind `object_store`: a directory (`<data-dir>/files`) by default, or any
//! S3-compatible bucket, so every node of a cluster serves every upload.

use std::{io::Cursor, sync::Arc, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use futures::stream::BoxStream;
use image::{
    DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits,
    codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder},
    metadata::Orientation,
};
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, aws::AmazonS3Builder,
    local::LocalFileSystem, path::Path as ObjectPath,
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::config::ServeArgs;

/// Largest file accepted, in bytes (10 MiB).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Longest side of an accepted image, in pixels.
pub const MAX_SIDE: u32 = 10_000;
/// Most pixels of an accepted image (40 megapixels: 160 MB as 8-bit RGBA).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Most memory one decode may allocate: a 40-megapixel 8-bit RGBA image fits, a 16-bit one
/// does not.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// JPEG re-encoding quality: visually lossless for photos, about a third of quality 100.
const JPEG_QUALITY: u8 = 90;

/// The image formats accepted, each stored in its own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    WebP,
}

impl ImageKind {
    fn from_format(format: ImageFormat) -> Option<Self> {
        match format {
            ImageFormat::Png => Some(Self::Png),
            ImageFormat::Jpeg => Some(Self::Jpeg),
            ImageFormat::WebP => Some(Self::WebP),
            _ => None,
        }
    }

    fn from_extension(extension: &str) -> Option<Self> {
        match extension {
            "png" => Some(Self::Png),
            "jpg" => Some(Self::Jpeg),
            "webp" => Some(Self::WebP),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::WebP => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::WebP => "image/webp",
        }
    }
}

/// The name of a stored file: 64 lowercase hex digits (SHA-256 of its bytes), a dot and the
/// extension (`png`, `jpg` or `webp`). Nothing else parses, so a key can never name a path
/// outside the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKey {
    name: String,
    kind: ImageKind,
}

impl FileKey {
    /// A key from untrusted input (the URL path), or `None` when it is not exactly one.
    pub fn parse(text: &str) -> Option<Self> {
        let (_, extension) = text.split_once('.')?;
        let kind = ImageKind::from_extension(extension)?;
        ssgwan_domain::upload::is_file_key(text).then(|| Self {
            name: text.to_owned(),
            kind,
        })
    }

    fn for_content(bytes: &[u8], kind: ImageKind) -> Self {
        Self {
            name: format!(
                "{}.{}",
                hex::encode(Sha256::digest(bytes)),
                kind.extension()
            ),
            kind,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> ImageKind {
        self.kind
    }

    /// Where the server serves it: `/api/files/<key>`.
    pub fn url(&self) -> String {
        format!("/api/files/{}", self.name)
    }

    fn path(&self) -> ObjectPath {
        ObjectPath::from(self.name.as_str())
    }
}

/// Why an upload was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The bytes are not a PNG, JPEG or WebP image.
    #[error("not a PNG, JPEG or WebP image")]
    Unsupported,
    /// The bytes start like an image of an accepted format but do not decode.
    #[error("the image does not decode: {0}")]
    Undecodable(String),
    /// Wider, taller or with more pixels than the limits allow.
    #[error("the image is too large: {0}")]
    TooManyPixels(String),
    /// Encoding or the store failed: our side, not the upload's.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Turns an uploaded file into the bytes to store: checks the format from the bytes and the
/// dimensions from the header, decodes under memory limits, applies the EXIF orientation and
/// re-encodes in the same format without any metadata.
pub fn sanitize_image(bytes: &[u8]) -> Result<(ImageKind, Vec<u8>), UploadError> {
    let format = image::guess_format(bytes).map_err(|_| UploadError::Unsupported)?;
    let kind = ImageKind::from_format(format).ok_or(UploadError::Unsupported)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    // Reads the header only; the limits above are checked here, before pixels are allocated.
    let mut decoder = reader.into_decoder().map_err(rejection)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(UploadError::TooManyPixels(format!("{width}×{height}")));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(rejection)?;
    image.apply_orientation(orientation);
    Ok((kind, encode(image, kind)?))
}

fn rejection(err: ImageError) -> UploadError {
    match err {
        ImageError::Limits(limit) => UploadError::TooManyPixels(limit.to_string()),
        ImageError::Unsupported(unsupported) => UploadError::Undecodable(unsupported.to_string()),
        other => UploadError::Undecodable(other.to_string()),
    }
}

/// Encodes pixels only: none of these encoders writes metadata unless asked to.
fn encode(image: DynamicImage, kind: ImageKind) -> Result<Vec<u8>, UploadError> {
    let mut out = Vec::new();
    let written = match kind {
        ImageKind::Png => image.write_with_encoder(PngEncoder::new(&mut out)),
        ImageKind::Jpeg => {
            // JPEG holds gray or RGB; alpha and 16-bit samples have no place in it.
            let encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            if image.color().has_color() {
                DynamicImage::ImageRgb8(image.into_rgb8()).write_with_encoder(encoder)
            } else {
                DynamicImage::ImageLuma8(image.into_luma8()).write_with_encoder(encoder)
            }
        }
        // The image crate's WebP encoder is lossless, so a lossy WebP may grow.
        ImageKind::WebP => {
            let encoder = WebPEncoder::new_lossless(&mut out);
            if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.into_rgba8()).write_with_encoder(encoder)
            } else {
                DynamicImage::ImageRgb8(image.into_rgb8()).write_with_encoder(encoder)
            }
        }
    };
    written.context("re-encoding the image")?;
    Ok(out)
}

/// An upload checked and stripped, not yet stored.
pub struct PreparedImage {
    pub key: FileKey,
    pub bytes: Bytes,
}

impl PreparedImage {
    /// How many bytes the stored file takes.
    pub fn size(&self) -> i64 {
        i64::try_from(self.bytes.len()).unwrap_or(i64::MAX)
    }
}

/// A stored file being read.
pub struct StoredFile {
    pub size: u64,
    pub body: BoxStream<'static, object_store::Result<Bytes>>,
}

/// The file store: where uploads go and are served from.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
    /// Decoding a large image takes a CPU and up to [`MAX_DECODE_BYTES`] of memory for a
    /// while; uploads beyond one per CPU wait here instead of all decoding at once.
    decode_slots: Arc<Semaphore>,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Files({})", self.store)
    }
}

impl Files {
    /// Wraps any object store (a bucket, a directory, memory).
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            store,
            decode_slots: Arc::new(Semaphore::new(cpus)),
        }
    }

    /// The configured store: the S3 bucket when one is set, else `<data-dir>/files`.
    pub fn from_config(args: &ServeArgs) -> anyhow::Result<Self> {
        let s3 = &args.s3;
        let Some(bucket) = &s3.s3_bucket else {
            let dir = args.database.data_dir.join("files");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the files directory {}", dir.display()))?;
            let local = LocalFileSystem::new_with_prefix(&dir)
                .with_context(|| format!("opening the files directory {}", dir.display()))?;
            tracing::info!(dir = %dir.display(), "files in a local directory");
            return Ok(Self::new(Arc::new(local)));
        };
        // Without keys, credentials come from the AWS environment: `AWS_*` variables, an
        // ECS task or EKS pod role, or the instance's metadata service.
        let base = if s3.s3_access_key_id.is_some() {
            AmazonS3Builder::new()
        } else {
            AmazonS3Builder::from_env()
        };
        let mut builder = base
            .with_bucket_name(bucket)
            .with_region(&s3.s3_region)
            .with_virtual_hosted_style_request(false)
            // A store that is down fails the upload within seconds instead of minutes.
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(10),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(30)),
            );
        if let Some(endpoint) = &s3.s3_endpoint {
            builder = builder
                .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                .with_allow_http(endpoint.scheme() == "http");
        }
        if let (Some(id), Some(secret)) = (&s3.s3_access_key_id, &s3.s3_secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret.expose_secret());
        }
        let store = builder.build().context("configuring the S3 file store")?;
        tracing::info!(
            bucket,
            endpoint = s3.s3_endpoint.as_ref().map(url::Url::as_str),
            "files in an S3 bucket"
        );
        Ok(Self::new(Arc::new(store)))
    }

    /// Checks an upload and strips it: the bytes to store and the key they go under (nothing
    /// is stored yet, so the upload can be recorded first).
    pub async fn prepare_image(&self, upload: Bytes) -> Result<PreparedImage, UploadError> {
        let slot = self
            .decode_slots
            .acquire()
            .await
            .context("decode slots closed")?;
        let (kind, clean) = tokio::task::spawn_blocking(move || sanitize_image(&upload))
            .await
            .context("image task failed")??;
        drop(slot);
        Ok(PreparedImage {
            key: FileKey::for_content(&clean, kind),
            bytes: Bytes::from(clean),
        })
    }

    /// Stores a prepared image under its key (the same bytes again leave the same object).
    pub async fn put(&self, image: &PreparedImage) -> Result<(), UploadError> {
        self.store
            .put(&image.key.path(), PutPayload::from(image.bytes.clone()))
            .await
            .map_err(|err| store_failure("storing an upload", &err))?;
        Ok(())
    }

    /// Every stored object's key and when it was last written, as the store lists them (a
    /// page at a time, so a bucket of any size costs one page of memory). Objects whose names
    /// are not keys are left out: nothing of ours.
    pub fn list(&self) -> BoxStream<'_, anyhow::Result<(FileKey, jiff::Timestamp)>> {
        use futures::StreamExt;
        self.store
            .list(None)
            .filter_map(|listed| async move {
                let meta = match listed {
                    Ok(meta) => meta,
                    Err(err) => return Some(Err(store_failure("listing stored files", &err))),
                };
                let key = FileKey::parse(meta.location.filename()?)?;
                // Only top-level objects are ours (a key is never a directory).
                if meta.location.as_ref() != key.as_str() {
                    return None;
                }
                let written =
                    jiff::Timestamp::from_millisecond(meta.last_modified.timestamp_millis())
                        .ok()?;
                Some(Ok((key, written)))
            })
            .boxed()
    }

    /// Deletes the object under `key` (already gone is fine).
    pub async fn delete(&self, key: &FileKey) -> anyhow::Result<()> {
        match self.store.delete(&key.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(store_failure("deleting a stored file", &err)),
        }
    }

    /// The stored file, or `None` when there is none under `key`.
    pub async fn get(&self, key: &FileKey) -> anyhow::Result<Option<StoredFile>> {
        match self.store.get(&key.path()).await {
            Ok(found) => Ok(Some(StoredFile {
                size: found.meta.size,
                body: found.into_stream(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(store_failure("reading a stored file", &err)),
        }
    }

    /// The stored file's size, or `None` when there is none under `key` (for `HEAD`).
    pub async fn size(&self, key: &FileKey) -> anyhow::Result<Option<u64>> {
        match self.store.head(&key.path()).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(store_failure("reading a stored file's size", &err)),
        }
    }

    /// Whether the store answers with these credentials: a `HEAD` of an object that need not
    /// exist (not-found is an answer; refused or unreachable is not).
    pub async fn probe(&self) -> anyhow::Result<()> {
        match self.store.head(&ObjectPath::from(".ssgwan-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(store_failure("probing the file store", &err)),
        }
    }
}

/// A store error as one message, cause included: the error log shows an error's own message
/// only. (`object_store` errors name the path and the response status, never credentials.)
fn store_failure(what: &str, err: &object_store::Error) -> anyhow::Error {
    anyhow::anyhow!("{what}: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_64_lowercase_hex_digits_and_a_known_extension() {
        let hash = "0123456789abcdef".repeat(4);
        for ext in ["png", "jpg", "webp"] {
            let key = FileKey::parse(&format!("{hash}.{ext}")).expect("valid key");
            assert_eq!(key.url(), format!("/api/files/{hash}.{ext}"));
        }
        for bad in [
            format!("{hash}.gif"),
            format!("{hash}.PNG"),
            format!("{hash}.png.png"),
            format!("{}.png", hash.to_uppercase()),
            format!("{}.png", &hash[1..]),
            format!("{hash}0.png"),
            format!("../{}.png", &hash[3..]),
            hash.clone(),
            ".png".to_owned(),
            String::new(),
        ] {
            assert_eq!(FileKey::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_key_is_the_hash_of_the_stored_bytes() {
        let key = FileKey::for_content(b"abc", ImageKind::WebP);
        assert_eq!(
            key.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.webp"
        );
        assert_eq!(key.kind().content_type(), "image/webp");
    }

    #[test]
    fn text_is_not_an_image() {
        assert!(matches!(
            sanitize_image(b"hello, this is text"),
            Err(UploadError::Unsupported)
        ));
        assert!(matches!(sanitize_image(b""), Err(UploadError::Unsupported)));
    }
}

//! Uploads: only real PNG/JPEG/WebP images are stored, stripped of metadata, under the hash of
//! their content; files are served with safe headers from the local directory or an S3 bucket
//! (a real s3s-fs server that checks signatures).

use std::time::Duration;

use image::{
    DynamicImage, ImageFormat, RgbaImage,
    codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder},
};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{TestApp, assert_error, read, spawn_app, spawn_app_from, test_args};

const MIB: usize = 1024 * 1024;

/// A `multipart/form-data` body with one part; returns the content type and the body.
fn multipart(name: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "ssgwan-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// Uploads `bytes` as the `file` part named `filename`, declared as `content_type`.
    async fn upload_as(
        &self,
        token: Option<&str>,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        let (form_type, body) = multipart("file", filename, content_type, bytes);
        let mut request = self
            .client
            .post(self.url("/api/uploads"))
            .header(header::CONTENT_TYPE, form_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.expect("sent")).await
    }

    async fn upload(&self, token: &str, filename: &str, bytes: &[u8]) -> (StatusCode, Value) {
        self.upload_as(Some(token), filename, "application/octet-stream", bytes)
            .await
    }

    /// Uploads an image that must be accepted; returns the stored file's URL.
    pub async fn upload_ok(&self, token: &str, filename: &str, bytes: &[u8]) -> String {
        let (status, body) = self.upload(token, filename, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let key = body["key"].as_str().expect("key");
        assert_eq!(body["url"], format!("/api/files/{key}"));
        body["url"].as_str().expect("url").to_owned()
    }

    /// Fetches a stored file: asserts the headers every file carries; returns its bytes.
    async fn fetch_file(&self, url: &str, content_type: &str) -> Vec<u8> {
        let response = self.client.get(self.url(url)).send().await.expect("sent");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], content_type);
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let bytes = response.bytes().await.expect("body").to_vec();
        assert_eq!(
            headers[header::CONTENT_LENGTH],
            bytes.len().to_string().as_str()
        );
        // The key is the SHA-256 of exactly the bytes served.
        let hash = hex::encode(Sha256::digest(&bytes));
        assert!(url.starts_with(&format!("/api/files/{hash}.")), "{url}");
        bytes
    }
}

/// A 64×48 picture with an alpha channel, so colour and transparency survive checks.
fn picture() -> RgbaImage {
    RgbaImage::from_fn(64, 48, |x, y| {
        image::Rgba([(x * 4) as u8, (y * 5) as u8, 128, 200])
    })
}

pub fn png_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(picture())
        .write_with_encoder(PngEncoder::new(&mut out))
        .expect("png");
    out
}

fn jpeg_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(picture()).to_rgb8())
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        .expect("jpeg");
    out
}

fn webp_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(picture())
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .expect("webp");
    out
}

/// CRC-32 (ISO-HDLC) as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut covered = kind.to_vec();
    covered.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&covered).to_be_bytes());
    chunk
}

/// A PNG whose header claims `width`×`height` RGBA pixels, followed by a token IDAT: a
/// decoder that trusted the header would allocate width×height×4 bytes.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    // An empty zlib stream: the pixel data ends at once.
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

/// `png` with a tEXt chunk (a place for authors, GPS notes, software names) after the IHDR.
fn with_text_chunk(png: &[u8], text: &str) -> Vec<u8> {
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    out.extend(png_chunk(b"tEXt", format!("Comment\0{text}").as_bytes()));
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

/// `jpeg` with an EXIF APP1 segment right after SOI: orientation 6 (rotate 90° clockwise to
/// display) and `secret` in the segment's tail.
fn with_exif(jpeg: &[u8], secret: &str) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    tiff.extend_from_slice(secret.as_bytes());
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn png_jpeg_and_webp_uploads_are_stored_and_served_with_safe_headers() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;
    for (bytes, filename, content_type, format) in [
        (png_bytes(), "a.png", "image/png", ImageFormat::Png),
        (jpeg_bytes(), "b.jpeg", "image/jpeg", ImageFormat::Jpeg),
        (webp_bytes(), "c.webp", "image/webp", ImageFormat::WebP),
    ] {
        let url = app.upload_ok(&token, filename, &bytes).await;
        let extension = format.extensions_str()[0];
        let extension = if extension == "jpeg" {
            "jpg"
        } else {
            extension
        };
        assert!(url.ends_with(&format!(".{extension}")), "{url}");
        let served = app.fetch_file(&url, content_type).await;
        let decoded = image::load_from_memory_with_format(&served, format).expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
        if format != ImageFormat::Jpeg {
            // Lossless formats keep every pixel, alpha included.
            assert_eq!(decoded.to_rgba8(), picture(), "{filename}");
        }
        // The same upload gets the same key.
        assert_eq!(app.upload_ok(&token, "again.bin", &bytes).await, url);
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    // (The recorder is shared by every test in this process, so the count is at least ours.)
    assert!(
        metrics.contains("ssgwan_uploads_total{outcome=\"stored\"} "),
        "{metrics}"
    );
}

#[tokio::test]
async fn metadata_is_stripped_and_exif_orientation_applied() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;

    let png = with_text_chunk(&png_bytes(), "GPS 37.5665 126.9780 SECRET-PNG");
    assert!(
        image::load_from_memory(&png).is_ok(),
        "the test PNG is valid"
    );
    let url = app.upload_ok(&token, "text.png", &png).await;
    let served = app.fetch_file(&url, "image/png").await;
    assert!(!contains(&served, b"tEXt"), "text chunk kept");
    assert!(!contains(&served, b"SECRET-PNG"));
    // Pixels unchanged, only the metadata went.
    assert_eq!(
        image::load_from_memory(&served).expect("png").to_rgba8(),
        picture()
    );

    let jpeg = with_exif(&jpeg_bytes(), "SECRET-EXIF-GPS");
    assert!(contains(&jpeg, b"Exif\0\0"));
    let url = app.upload_ok(&token, "exif.jpg", &jpeg).await;
    let served = app.fetch_file(&url, "image/jpeg").await;
    assert!(!contains(&served, b"Exif"), "EXIF segment kept");
    assert!(!contains(&served, b"SECRET-EXIF-GPS"));
    let decoded = image::load_from_memory(&served).expect("jpeg");
    // Orientation 6 was applied to the pixels: 64×48 stored upright as 48×64.
    assert_eq!((decoded.width(), decoded.height()), (48, 64));

    // Bytes hidden after the image (a polyglot's payload) do not survive either.
    let mut polyglot = png_bytes();
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let url = app.upload_ok(&token, "polyglot.png", &polyglot).await;
    let served = app.fetch_file(&url, "image/png").await;
    assert!(!contains(&served, b"<script>"));
}

#[tokio::test]
async fn anything_but_png_jpeg_or_webp_bytes_is_415_whatever_its_name() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    for bytes in [&b"just some text, not a picture\n"[..], &gif[..], &svg[..]] {
        let response = app
            .upload_as(Some(&token), "x.png", "image/png", bytes)
            .await;
        assert_error(
            &response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            Some("file"),
        );
    }
    // A real PNG declared as text and named .txt is still a PNG.
    let (status, body) = app
        .upload_as(Some(&token), "notes.txt", "text/plain", &png_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["key"].as_str().is_some_and(|k| k.ends_with(".png")));

    // Not multipart at all.
    let response = app
        .client
        .post(app.url("/api/uploads"))
        .bearer_auth(&token)
        .json(&json!({ "file": "aGVsbG8=" }))
        .send()
        .await
        .expect("sent");
    assert_error(
        &read(response).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        None,
    );
}

#[tokio::test]
async fn broken_missing_or_enormous_images_are_400() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;

    let png = png_bytes();
    let truncated = &png[..png.len() / 2];
    assert_error(
        &app.upload(&token, "half.png", truncated).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("file"),
    );
    let jpeg = jpeg_bytes();
    assert_error(
        &app.upload(&token, "half.jpg", &jpeg[..40]).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("file"),
    );

    // Headers claiming 50,000×50,000 (10 GB as RGBA) or 9,000×9,000 (81 megapixels, each side
    // within limits) are refused from the header, before pixels are allocated.
    for (width, height) in [(50_000, 50_000), (9_000, 9_000), (10_001, 10)] {
        let started = std::time::Instant::now();
        let (status, body) = app
            .upload(&token, "bomb.png", &png_claiming(width, height))
            .await;
        assert_error(
            &(status, body.clone()),
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some("file"),
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{width}×{height}: {body}"
        );
    }
    // A small image with a valid header but an empty pixel stream is refused too.
    assert_error(
        &app.upload(&token, "empty.png", &png_claiming(4, 4)).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("file"),
    );

    // No `file` part, or an empty one.
    let (form_type, form) = multipart("picture", "a.png", "image/png", &png);
    let response = app
        .client
        .post(app.url("/api/uploads"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, form_type)
        .body(form)
        .send()
        .await
        .expect("sent");
    assert_error(
        &read(response).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("file"),
    );
    assert_error(
        &app.upload(&token, "empty.png", b"").await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("file"),
    );
    // Multipart that breaks off mid-part.
    let (form_type, form) = multipart("file", "a.png", "image/png", &png);
    let response = app
        .client
        .post(app.url("/api/uploads"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, form_type)
        .body(form[..form.len() - 30].to_vec())
        .send()
        .await
        .expect("sent");
    assert_error(
        &read(response).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("file"),
    );
}

#[tokio::test]
async fn the_size_limit_is_exactly_10_mib() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;
    // Exactly 10 MiB is accepted (a PNG followed by padding, which is not kept) ...
    let mut file = png_bytes();
    file.resize(10 * MIB, 0);
    let url = app.upload_ok(&token, "big.png", &file).await;
    assert_eq!(app.fetch_file(&url, "image/png").await, {
        let mut clean = Vec::new();
        DynamicImage::ImageRgba8(picture())
            .write_with_encoder(PngEncoder::new(&mut clean))
            .expect("png");
        clean
    });
    // ... one byte more is 413.
    file.push(0);
    assert_error(
        &app.upload(&token, "bigger.png", &file).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        None,
    );
    // Well past the route's body limit, too.
    file.resize(12 * MIB, 0);
    assert_error(
        &app.upload(&token, "huge.png", &file).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        None,
    );
    // Other routes keep their small JSON limit.
    let (status, _) = app
        .post(
            "/api/challenges",
            Some(&token),
            json!({ "title": "x".repeat(100 * 1024) }),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn uploading_needs_a_session() {
    let app = spawn_app().await;
    assert_error(
        &app.upload_as(None, "a.png", "image/png", &png_bytes())
            .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
    assert_error(
        &app.upload_as(Some("not-a-session"), "a.png", "image/png", &png_bytes())
            .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn unknown_or_malformed_keys_and_traversal_are_json_404() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;
    let url = app.upload_ok(&token, "a.png", &png_bytes()).await;
    let key = url.trim_start_matches("/api/files/");
    let hash = &key[..64];
    // The database lives in the data directory, one level above the files directory.
    assert!(app._dir.path().join("ssgwan.db").exists());
    assert!(app._dir.path().join("files").join(key).exists());
    let unknown = format!("/api/files/{}.png", "0".repeat(64));
    for path in [
        unknown.as_str(),
        &format!("/api/files/{hash}.jpg"),
        &format!("/api/files/{hash}.PNG"),
        &format!("/api/files/{}.png", hash.to_uppercase()),
        &format!("/api/files/{hash}"),
        &format!("/api/files/{key}.png"),
        &format!("/api/files/{key}/x"),
        "/api/files/abc.png",
        "/api/files/..%2Fssgwan.db",
        "/api/files/%2e%2e%2fssgwan.db",
        "/api/files/..%5Cssgwan.db",
        "/api/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/files/%ff%fe.png",
        "/api/files/",
    ] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json",
            "{path}"
        );
        assert_error(
            &read(response).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            None,
        );
    }
}

#[tokio::test]
async fn head_reports_the_size_without_a_body() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;
    let url = app.upload_ok(&token, "a.webp", &webp_bytes()).await;
    let size = app.fetch_file(&url, "image/webp").await.len();
    let response = app
        .client
        .request(Method::HEAD, app.url(&url))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/webp");
    assert_eq!(
        response.headers()[header::CONTENT_LENGTH],
        size.to_string().as_str()
    );
    assert!(response.bytes().await.expect("body").is_empty());
    let missing = app
        .client
        .request(
            Method::HEAD,
            app.url(&format!("/api/files/{}.webp", "f".repeat(64))),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_uploaded_url_is_a_valid_thumbnail_and_profile_image() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;
    let thumbnail = app.upload_ok(&token, "thumb.jpg", &jpeg_bytes()).await;
    let id = app
        .create_challenge(&token, json!({ "thumbnail": thumbnail }))
        .await;
    let (status, challenge) = app.get(&format!("/api/challenges/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(challenge["thumbnail"], thumbnail.as_str());

    let avatar = app.upload_ok(&token, "me.png", &png_bytes()).await;
    let (status, me) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "profileImage": avatar })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["profileImage"], avatar.as_str());
    // The picture is served to anyone (no session), as <img> tags fetch it.
    app.fetch_file(&avatar, "image/png").await;
}

#[tokio::test]
async fn errors_follow_accept_language() {
    let app = spawn_app().await;
    let token = app.login("uploader").await;
    let (form_type, body) = multipart("file", "x.png", "image/png", b"plain text");
    let response = app
        .client
        .post(app.url("/api/uploads"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, form_type)
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(body)
        .send()
        .await
        .expect("sent");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("PNG, JPEG or WebP")),
        "{body}"
    );
}

/// A small PNG whose pixels depend on `seed`: a different image (and key) per seed.
fn png_of(seed: u8) -> Vec<u8> {
    let picture = RgbaImage::from_fn(16, 16, |x, y| {
        image::Rgba([seed, (x * 9) as u8, (y * 7) as u8, 255])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(picture)
        .write_with_encoder(PngEncoder::new(&mut out))
        .expect("png");
    out
}

/// The caller's own challenges (created), as the API lists them.
async fn created_challenges(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app
        .get("/api/me/challenges?state=created", Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn image_references_other_than_the_callers_own_uploads_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mine = app.upload_ok(&alice, "mine.png", &png_of(1)).await;
    let bobs = app.upload_ok(&bob, "bobs.png", &png_of(2)).await;
    let (status, me) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&alice),
            Some(json!({ "profileImage": mine })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let id = app
        .create_challenge(&alice, json!({ "thumbnail": mine }))
        .await;
    let unknown = format!("/api/files/{}.png", "0".repeat(64));
    let refusals = [
        (
            "http://attacker.example/track.gif".to_owned(),
            "VALIDATION_FAILED",
        ),
        ("https://img.example/a.png".to_owned(), "VALIDATION_FAILED"),
        (
            "/api/files/../../api/auth/kakao".to_owned(),
            "VALIDATION_FAILED",
        ),
        (format!("{mine}?size=2"), "VALIDATION_FAILED"),
        (mine.to_uppercase(), "VALIDATION_FAILED"),
        ("javascript:alert(1)".to_owned(), "VALIDATION_FAILED"),
        // Well-formed, but someone else's upload, or nobody's.
        (bobs.clone(), "UPLOAD_NOT_FOUND"),
        (unknown, "UPLOAD_NOT_FOUND"),
    ];
    for (value, code) in refusals {
        let refused = app
            .call(
                Method::PATCH,
                "/api/me",
                Some(&alice),
                Some(json!({ "nickname": "renamed", "profileImage": value })),
            )
            .await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            code,
            Some("profileImage"),
        );
        let (_, me) = app.get("/api/me", Some(&alice)).await;
        assert_eq!(
            (me["nickname"].as_str(), me["profileImage"].as_str()),
            (Some("alice"), Some(mine.as_str())),
            "{value}: nothing changed"
        );

        let refused = app
            .post(
                "/api/challenges",
                Some(&alice),
                crate::support::merge(
                    crate::support::valid_challenge(),
                    json!({ "thumbnail": value }),
                ),
            )
            .await;
        assert_error(&refused, StatusCode::BAD_REQUEST, code, Some("thumbnail"));
        assert_eq!(created_challenges(&app, &alice).await.len(), 1, "{value}");

        let refused = app
            .call(
                Method::PATCH,
                &format!("/api/challenges/{id}"),
                Some(&alice),
                Some(json!({ "title": "changed", "thumbnail": value })),
            )
            .await;
        assert_error(&refused, StatusCode::BAD_REQUEST, code, Some("thumbnail"));
        let (_, challenge) = app.get(&format!("/api/challenges/{id}"), None).await;
        assert_eq!(
            (challenge["title"].as_str(), challenge["thumbnail"].as_str()),
            (Some("새벽 공부 Morning Study"), Some(mine.as_str())),
            "{value}: nothing changed"
        );
    }
    // The same picture uploaded by Bob is his upload too (one object, two uploaders).
    assert_eq!(app.upload_ok(&bob, "copy.png", &png_of(1)).await, mine);
    let (status, body) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&bob),
            Some(json!({ "profileImage": mine })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Clearing is always allowed.
    let (status, cleared) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&alice),
            Some(json!({ "profileImage": null })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["profileImage"], Value::Null);
}

#[tokio::test]
async fn uploads_beyond_the_daily_quota_are_refused_until_the_next_day() {
    let app = crate::support::spawn_app_with(&["--dev-login", "--upload-daily-files", "2"]).await;
    let token = app.login("uploader").await;
    app.upload_ok(&token, "1.png", &png_of(1)).await;
    app.upload_ok(&token, "2.png", &png_of(2)).await;
    let refused = app.upload(&token, "3.png", &png_of(3)).await;
    assert_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "UPLOAD_QUOTA_EXCEEDED",
        None,
    );
    // Nothing was stored for the refused upload.
    let stored = std::fs::read_dir(app._dir.path().join("files"))
        .expect("files dir")
        .count();
    assert_eq!(stored, 2);
    // Another user has a quota of their own.
    let other = app.login("other").await;
    app.upload_ok(&other, "3.png", &png_of(3)).await;
    // The day turns at midnight in the server's timezone (15:00 UTC in Seoul).
    app.set_now("2026-03-02T14:59:59Z");
    assert_error(
        &app.upload(&token, "3.png", &png_of(3)).await,
        StatusCode::TOO_MANY_REQUESTS,
        "UPLOAD_QUOTA_EXCEEDED",
        None,
    );
    app.set_now("2026-03-02T15:00:00Z");
    app.upload_ok(&token, "3.png", &png_of(3)).await;
}

#[tokio::test]
async fn the_byte_quota_counts_the_stored_bytes_of_the_day() {
    let stored = {
        let app = spawn_app().await;
        let token = app.login("measure").await;
        let url = app.upload_ok(&token, "1.png", &png_of(1)).await;
        app.fetch_file(&url, "image/png").await.len()
    };
    // Room for exactly one such file a day (the second image is as large: same dimensions).
    let limit = (stored + stored / 2).to_string();
    let app = crate::support::spawn_app_with(&[
        "--dev-login",
        "--upload-daily-files",
        "0",
        "--upload-daily-bytes",
        &limit,
    ])
    .await;
    let token = app.login("uploader").await;
    app.upload_ok(&token, "1.png", &png_of(1)).await;
    assert_error(
        &app.upload(&token, "2.png", &png_of(2)).await,
        StatusCode::TOO_MANY_REQUESTS,
        "UPLOAD_QUOTA_EXCEEDED",
        None,
    );
}

/// A challenge definition that is valid on the real calendar (the sweep tests run the clock
/// at the wall clock's time, since stored files carry the wall clock's times).
fn challenge_starting_next_week() -> Value {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Seoul").expect("tz"))
        .date();
    let start = today.saturating_add(jiff::Span::new().days(7));
    let end = start.saturating_add(jiff::Span::new().days(6));
    crate::support::merge(
        crate::support::valid_challenge(),
        json!({ "startDate": start.to_string(), "endDate": end.to_string(), "daysOfWeek": null }),
    )
}

/// The sweep on `app`, whose objects are files in `dir` (the local store, or the bucket's
/// directory of s3s-fs): deletes the old unused upload and an old object nobody recorded, keeps
/// the profile image, the thumbnail and a fresh unused upload.
async fn sweep_deletes_only_old_unreferenced_files(app: &TestApp, dir: &std::path::Path) {
    let day = jiff::SignedDuration::from_hours(24);
    app.clock.set(jiff::Timestamp::now());
    let token = app.login("alice").await;
    let unused = app.upload_ok(&token, "unused.png", &png_of(1)).await;
    let avatar = app.upload_ok(&token, "avatar.png", &png_of(2)).await;
    let thumb = app.upload_ok(&token, "thumb.png", &png_of(3)).await;
    let (status, body) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "profileImage": avatar })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut challenge = challenge_starting_next_week();
    challenge["thumbnail"] = json!(thumb);
    let (status, body) = app.post("/api/challenges", Some(&token), challenge).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // An object no upload record names (written before uploads were recorded, say).
    let orphan = format!("{}.png", "ab".repeat(32));
    let file = |url: &str| dir.join(url.trim_start_matches("/api/files/"));
    std::fs::write(dir.join(&orphan), png_of(4)).expect("orphan written");
    // Two days on: everything above is older than the one-day grace; then a fresh upload.
    app.clock.advance(day * 2);
    let fresh = app.upload_ok(&token, "fresh.png", &png_of(5)).await;

    let swept = app.file_sweep.run_now().await;
    assert!(swept.claimed);
    assert_eq!((swept.records, swept.files), (1, 2), "{swept:?}");
    assert!(!file(&unused).exists());
    assert!(!dir.join(&orphan).exists());
    for kept in [&avatar, &thumb, &fresh] {
        assert!(file(kept).exists(), "{kept} kept");
        app.fetch_file(kept, "image/png").await;
    }
    assert_error(
        &app.get(&unused, None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        None,
    );
    // Its record went with it: the old URL is no longer the user's to set.
    assert_error(
        &app.call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "profileImage": unused })),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "UPLOAD_NOT_FOUND",
        Some("profileImage"),
    );
    // Within the interval the claim is taken: a second pass (any node's) does nothing.
    assert!(!app.file_sweep.run_now().await.claimed);
    // Once the fresh upload is past the grace and unused, it goes too; pictures in use stay.
    app.clock.advance(day * 2);
    let swept = app.file_sweep.run_now().await;
    assert_eq!((swept.claimed, swept.records, swept.files), (true, 1, 1));
    assert!(!file(&fresh).exists());
    assert!(file(&avatar).exists() && file(&thumb).exists());
}

#[tokio::test]
async fn the_sweep_deletes_only_old_unreferenced_files_from_the_local_store() {
    let app = spawn_app().await;
    let dir = app._dir.path().join("files");
    // Not a key: not ours, never touched.
    std::fs::write(dir.join("notes.txt"), b"keep").expect("written");
    sweep_deletes_only_old_unreferenced_files(&app, &dir).await;
    assert!(dir.join("notes.txt").exists());
}

/// A real s3s-fs server (it checks SigV4 signatures) on a free port, with a bucket.
struct S3sFs {
    endpoint: String,
    root: tempfile::TempDir,
    access_key: String,
    secret_key: String,
    _process: crate::child::S3sFs,
}

const BUCKET: &str = "ssgwan-uploads";

impl S3sFs {
    /// `None` (and a note on stderr) when `SSGWAN_TEST_S3S_FS` does not name the binary.
    async fn start() -> Option<Self> {
        let Ok(binary) = std::env::var("SSGWAN_TEST_S3S_FS") else {
            eprintln!("skipped: SSGWAN_TEST_S3S_FS is not set (scripts/test.sh sets it)");
            return None;
        };
        let root = tempfile::tempdir().expect("temp dir");
        // s3s-fs maps buckets to directories under its root.
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket directory");
        let access_key = format!("AK{}", hex::encode(rand::random::<[u8; 8]>())).to_uppercase();
        let secret_key = hex::encode(rand::random::<[u8; 20]>());
        // Binds 127.0.0.1:0 and says where.
        let process = crate::child::start_s3s_fs(&binary, root.path(), &access_key, &secret_key);
        Some(Self {
            endpoint: process.endpoint.clone(),
            root,
            access_key,
            secret_key,
            _process: process,
        })
    }

    /// A server whose files go to this bucket, signing with `secret`.
    async fn app(&self, secret: &str) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = test_args(
            &dir,
            &[
                "--dev-login",
                "--s3-bucket",
                BUCKET,
                "--s3-endpoint",
                &self.endpoint,
                "--s3-access-key-id",
                &self.access_key,
                "--s3-secret-access-key",
                secret,
            ],
        );
        spawn_app_from(dir, args).await
    }
}

#[tokio::test]
async fn s3_store_keeps_uploads_in_the_bucket_for_every_node() {
    let Some(s3) = S3sFs::start().await else {
        return;
    };
    let app = s3.app(&s3.secret_key).await;
    let token = app.login("uploader").await;
    let png = with_text_chunk(&png_bytes(), "SECRET");
    let url = app.upload_ok(&token, "a.png", &png).await;
    let served = app.fetch_file(&url, "image/png").await;
    assert!(!contains(&served, b"SECRET"));
    // The object is in the bucket, byte for byte, and nothing landed in the data directory.
    let key = url.trim_start_matches("/api/files/");
    let stored = std::fs::read(s3.root.path().join(BUCKET).join(key)).expect("object in bucket");
    assert_eq!(stored, served);
    assert!(!app._dir.path().join("files").exists());
    // HEAD asks the bucket too.
    let head = app
        .client
        .request(Method::HEAD, app.url(&url))
        .send()
        .await
        .expect("sent");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()[header::CONTENT_LENGTH],
        served.len().to_string().as_str()
    );
    let missing = format!("/api/files/{}.png", "a".repeat(64));
    assert_error(
        &app.get(&missing, None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        None,
    );

    // Another node (its own data directory, the same bucket) serves the same file.
    let other = s3.app(&s3.secret_key).await;
    assert_eq!(other.fetch_file(&url, "image/png").await, served);
    let again = other
        .upload_ok(&other.login("second").await, "same.png", &png)
        .await;
    assert_eq!(again, url);
}

#[tokio::test]
async fn s3_with_a_wrong_secret_fails_uploads_with_a_json_5xx() {
    let Some(s3) = S3sFs::start().await else {
        return;
    };
    let wrong = format!("wrong{}", &s3.secret_key[5..]);
    let app = s3.app(&wrong).await;
    let token = app.login("uploader").await;
    let (status, body) = app.upload(&token, "a.png", &png_bytes()).await;
    assert!(status.is_server_error(), "{status} {body}");
    assert_eq!(body["code"], "INTERNAL", "{body}");
    let text = body.to_string();
    for secret in [&wrong, &s3.secret_key, &s3.access_key] {
        assert!(!text.contains(secret.as_str()), "{text}");
    }
    // Nothing was written, and reads fail the same way rather than claiming "not found".
    let entries = std::fs::read_dir(s3.root.path().join(BUCKET))
        .expect("bucket")
        .count();
    assert_eq!(entries, 0);
    let (status, body) = app
        .get(&format!("/api/files/{}.png", "a".repeat(64)), None)
        .await;
    assert!(status.is_server_error(), "{status} {body}");
    // The server itself is fine.
    assert_eq!(app.get("/readyz", None).await.0, StatusCode::OK);
}

#[test]
fn s3_settings_are_checked_at_start_and_the_secret_never_prints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "very-secret-key-value";
    let good = test_args(
        &dir,
        &[
            "--s3-bucket",
            "b",
            "--s3-endpoint",
            "http://127.0.0.1:9000",
            "--s3-access-key-id",
            "AK",
            "--s3-secret-access-key",
            secret,
        ],
    );
    good.validate().expect("valid S3 settings");
    assert!(!format!("{good:?}").contains(secret));
    for bad in [
        &["--s3-bucket", "b", "--s3-endpoint", "ftp://127.0.0.1:9000"][..],
        &["--s3-endpoint", "http://127.0.0.1:9000"],
        &["--s3-bucket", "b", "--s3-access-key-id", "AK"],
        &["--s3-bucket", "b", "--s3-secret-access-key", secret],
        &["--s3-bucket", ""],
    ] {
        let err = test_args(&dir, bad).validate().expect_err("refused");
        assert!(!err.to_string().contains(secret), "{err}");
    }
    // Not a URL at all is refused by the parser.
    let parsed = <ssgwan_server::config::Cli as clap::Parser>::try_parse_from([
        "ssgwan",
        "serve",
        "--s3-bucket",
        "b",
        "--s3-endpoint",
        "not a url",
    ]);
    assert!(parsed.is_err());
}

#[tokio::test]
async fn the_sweep_deletes_only_old_unreferenced_files_from_the_bucket() {
    let Some(s3) = S3sFs::start().await else {
        return;
    };
    let app = s3.app(&s3.secret_key).await;
    sweep_deletes_only_old_unreferenced_files(&app, &s3.root.path().join(BUCKET)).await;
}

//! The three endpoints a login needs: authorize (auto-consent), token, and the user profile.

use super::{wire::*, *};

/// The consent step, auto-granted: checks the client and redirect URI, then redirects back with
/// a fresh code (or `access_denied` when the test set [`NextOutcome::Deny`]).
///
/// Errors about the client or the redirect URI are answered here as 400 JSON and never
/// redirected (RFC 6749 §4.1.2.1: the redirect URI cannot be trusted). Errors after that, such
/// as an unsupported `response_type`, are redirected back with `error=…` as the RFC requires.
pub(super) async fn authorize(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    match authorize_inner(&shared, query.as_deref().unwrap_or_default()) {
        Ok(location) => redirect(&location),
        Err(error) => error.into_response(),
    }
}

/// Validates an authorization request; `Ok` is where to redirect the browser (with a code or
/// a redirectable error), `Err` is answered directly.
pub(super) fn authorize_inner(shared: &Shared, query: &str) -> Result<Url, OAuthError> {
    let config = &shared.config;
    let params = parse_params(query.as_bytes())?;
    let client_id = required(&params, "client_id")?;
    if client_id != config.client_id {
        return Err(
            OAuthError::invalid_request(format!("invalid client_id: {client_id}")).code("KOE101"),
        );
    }
    let redirect_uri = required(&params, "redirect_uri")?;
    if redirect_uri != config.redirect_uri {
        return Err(OAuthError::invalid_request(format!(
            "redirect_uri mismatch: {redirect_uri} is not the registered redirect URI"
        ))
        .code("KOE006"));
    }
    let target = Url::parse(redirect_uri).map_err(|error| {
        OAuthError::invalid_request(format!("registered redirect_uri is not a URL: {error}"))
    })?;
    // `state` is optional at Kakao; when present it is echoed unchanged.
    let state = params.get("state").map(String::as_str);
    let mut reply: Vec<(&str, &str)> = Vec::new();

    let response_type = params.get("response_type").map(String::as_str);
    if response_type != Some("code") {
        tracing::debug!(?response_type, "fake Kakao: unsupported response_type");
        reply.push(("error", "unsupported_response_type"));
        reply.push(("error_description", "response_type must be code"));
        reply.extend(state.map(|s| ("state", s)));
        return Ok(with_query(target, &reply));
    }

    let outcome = shared.lock().next_outcome.clone();
    let user = match outcome {
        NextOutcome::Grant(user) => user,
        NextOutcome::Deny => {
            tracing::debug!("fake Kakao: denying authorization as the test asked");
            reply.push(("error", "access_denied"));
            reply.push(("error_description", "User denied access"));
            reply.extend(state.map(|s| ("state", s)));
            return Ok(with_query(target, &reply));
        }
    };
    let code = random_secret();
    tracing::debug!(user_id = user.id, "fake Kakao: issuing authorization code");
    shared.lock().codes.insert(
        code.clone(),
        IssuedCode {
            user,
            redirect_uri: redirect_uri.to_owned(),
            expires_at: Instant::now() + CODE_TTL,
        },
    );
    reply.push(("code", &code));
    reply.extend(state.map(|s| ("state", s)));
    Ok(with_query(target, &reply))
}

// ---------------------------------------------------------------------------------------------
// POST /oauth/token
// ---------------------------------------------------------------------------------------------

/// A successful token answer, in Kakao's shape (note the lower-case `"bearer"`).
#[derive(Debug, Serialize)]
pub(super) struct TokenResponse {
    token_type: &'static str,
    access_token: String,
    expires_in: u64,
    refresh_token: String,
    refresh_token_expires_in: u64,
    scope: &'static str,
}

/// Client credentials from an `Authorization: Basic` header.
pub(super) struct BasicCredentials {
    client_id: String,
    client_secret: String,
}

/// Reads `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
/// `Ok(None)` when there is no Basic header; malformed headers are `invalid_client`.
pub(super) fn basic_credentials(
    headers: &HeaderMap,
) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        let mut error =
            OAuthError::invalid_client("malformed Basic authorization header", "KOE010");
        error.basic_challenge = true;
        error
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some(BasicCredentials {
        client_id: unescape(id),
        client_secret: unescape(secret),
    }))
}

/// Exchanges an authorization code for tokens.
pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_inner(&shared, &headers, &body) {
        Ok(tokens) => {
            let mut response = (StatusCode::OK, axum::Json(tokens)).into_response();
            // RFC 6749 §5.1: token responses must not be cached.
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => error.into_response(),
    }
}

pub(super) fn token_inner(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let config = &shared.config;

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_form = content_type.split(';').next().is_some_and(|mime| {
        mime.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let params = parse_params(body)?;

    let grant_type = required(&params, "grant_type")?;
    if grant_type != "authorization_code" {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("unsupported grant_type: {grant_type}"),
        ));
    }

    // Client authentication: form body (Kakao's way) or HTTP Basic, but not both at once.
    let basic = basic_credentials(headers)?;
    let (client_id, client_secret, used_basic) = match &basic {
        Some(basic) => {
            if params.contains_key("client_secret") {
                return Err(OAuthError::invalid_request(
                    "client credentials sent both in the Authorization header and the body",
                ));
            }
            if params
                .get("client_id")
                .is_some_and(|id| *id != basic.client_id)
            {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Authorization header",
                ));
            }
            (
                basic.client_id.as_str(),
                Some(basic.client_secret.as_str()),
                true,
            )
        }
        None => (
            required(&params, "client_id")?,
            params.get("client_secret").map(String::as_str),
            false,
        ),
    };
    let challenge = |mut error: OAuthError| {
        error.basic_challenge = used_basic;
        error
    };
    if client_id != config.client_id {
        return Err(challenge(OAuthError::invalid_client(
            format!("invalid client_id: {client_id}"),
            "KOE101",
        )));
    }
    if let Some(expected) = &config.client_secret {
        match client_secret {
            Some(given) if given == expected => {}
            Some(_) => {
                return Err(challenge(OAuthError::invalid_client(
                    "Bad client credentials",
                    "KOE010",
                )));
            }
            None => {
                return Err(challenge(OAuthError::invalid_client(
                    "client_secret is required",
                    "KOE010",
                )));
            }
        }
    }

    let code = required(&params, "code")?;
    let redirect_uri = required(&params, "redirect_uri")?;
    let mut inner = shared.lock();
    // Removing the code makes it single use: any exchange attempt that gets this far (an
    // authenticated client naming the code) burns it, successful or not.
    let Some(issued) = inner.codes.remove(code) else {
        return Err(OAuthError::invalid_grant(
            format!("authorization code not found for code={code}"),
            "KOE320",
        ));
    };
    if Instant::now() >= issued.expires_at {
        return Err(OAuthError::invalid_grant(
            format!("authorization code expired for code={code}"),
            "KOE320",
        ));
    }
    if redirect_uri != issued.redirect_uri {
        return Err(OAuthError::invalid_grant(
            format!(
                "redirect_uri mismatch: {redirect_uri} is not the redirect URI the code was issued for"
            ),
            "KOE006",
        ));
    }

    let access_token = random_secret();
    let refresh_token = random_secret();
    tracing::debug!(user_id = issued.user.id, "fake Kakao: issuing access token");
    inner
        .access_tokens
        .insert(access_token.clone(), issued.user);
    inner.token_exchanges += 1;
    Ok(TokenResponse {
        token_type: "bearer",
        access_token,
        expires_in: ACCESS_TOKEN_EXPIRES_IN,
        refresh_token,
        refresh_token_expires_in: REFRESH_TOKEN_EXPIRES_IN,
        scope: GRANTED_SCOPE,
    })
}

// ---------------------------------------------------------------------------------------------
// GET|POST /v2/user/me
// ---------------------------------------------------------------------------------------------

/// The bearer token of an `Authorization: Bearer <token>` header, if any.
pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|token| !token.is_empty())
}

/// The profile of the user the access token was issued for, in Kakao's shape.
pub(super) async fn user_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let user = {
        let inner = shared.lock();
        if inner.fail_user_endpoint {
            drop(inner);
            return api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error (simulated by the test)",
                -1,
            );
        }
        bearer_token(&headers).and_then(|token| inner.access_tokens.get(token).cloned())
    };
    match user {
        Some(user) => (StatusCode::OK, axum::Json(user_json(&user))).into_response(),
        None => api_error(
            StatusCode::UNAUTHORIZED,
            "this access token does not exist",
            -401,
        ),
    }
}

/// Renders `/v2/user/me` for a user; image and email fields only when the user has them.
pub(super) fn user_json(user: &KakaoUser) -> Value {
    let mut properties = Map::new();
    properties.insert("nickname".into(), json!(user.nickname));

    let mut profile = Map::new();
    profile.insert("nickname".into(), json!(user.nickname));

    let mut account = Map::new();
    account.insert("profile_nickname_needs_agreement".into(), json!(false));

    if let Some(image) = &user.profile_image_url {
        properties.insert("profile_image".into(), json!(image));
        properties.insert("thumbnail_image".into(), json!(image));
        profile.insert("thumbnail_image_url".into(), json!(image));
        profile.insert("profile_image_url".into(), json!(image));
        profile.insert("is_default_image".into(), json!(false));
        account.insert("profile_image_needs_agreement".into(), json!(false));
    }
    account.insert("profile".into(), Value::Object(profile));
    if let Some(email) = &user.email {
        account.insert("has_email".into(), json!(true));
        account.insert("email_needs_agreement".into(), json!(false));
        account.insert("is_email_valid".into(), json!(true));
        account.insert("is_email_verified".into(), json!(true));
        account.insert("email".into(), json!(email));
    }

    json!({
        "id": user.id,
        "connected_at": CONNECTED_AT,
        "properties": properties,
        "kakao_account": account,
    })
}

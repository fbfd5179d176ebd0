//! The fake's wire details: Kakao's error shapes, form and query encoding, redirects.

use super::*;

/// An error of the auth server (`kauth.kakao.com`), e.g.
/// `{"error":"invalid_grant","error_description":"…","error_code":"KOE320"}`.
#[derive(Debug, Serialize)]
pub(super) struct OAuthError {
    #[serde(skip)]
    status: StatusCode,
    /// Sent as `WWW-Authenticate` when a client that tried HTTP Basic fails to authenticate
    /// (RFC 6749 §5.2).
    #[serde(skip)]
    pub(super) basic_challenge: bool,
    error: &'static str,
    error_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
}

impl OAuthError {
    pub(super) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            basic_challenge: false,
            error,
            error_description: description.into(),
            error_code: None,
        }
    }

    pub(super) fn code(mut self, error_code: &'static str) -> Self {
        self.error_code = Some(error_code);
        self
    }

    /// 400 `invalid_request`: a parameter is missing, repeated or malformed.
    pub(super) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 `invalid_client`: unknown client or wrong client secret.
    pub(super) fn invalid_client(description: impl Into<String>, error_code: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description).code(error_code)
    }

    /// 400 `invalid_grant`: the code is unknown, used, expired or for another redirect URI.
    pub(super) fn invalid_grant(description: impl Into<String>, error_code: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description).code(error_code)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        tracing::debug!(error = self.error, description = %self.error_description, "fake Kakao rejected a request");
        let mut response = (self.status, axum::Json(&self)).into_response();
        if self.basic_challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"fake-kakao\""),
            );
        }
        response
    }
}

/// An error of the API server (`kapi.kakao.com`), e.g.
/// `{"msg":"this access token does not exist","code":-401}`.
pub(super) fn api_error(status: StatusCode, msg: &str, code: i32) -> Response {
    (status, axum::Json(json!({ "msg": msg, "code": code }))).into_response()
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Parses `application/x-www-form-urlencoded` parameters (a query string or a form body).
/// A parameter given twice is an error, as RFC 6749 §3.1 requires.
pub(super) fn parse_params(input: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut params = HashMap::new();
    for (name, value) in form_urlencoded::parse(input) {
        match params.entry(name.into_owned()) {
            Entry::Vacant(slot) => {
                slot.insert(value.into_owned());
            }
            Entry::Occupied(slot) => {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {} is included more than once",
                    slot.key()
                )));
            }
        }
    }
    Ok(params)
}

/// The value of a required parameter, or `invalid_request` naming it.
pub(super) fn required<'a>(
    params: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, OAuthError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

/// A random alphanumeric string, used for codes and tokens.
pub(super) fn random_secret() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect()
}

/// Percent-encodes a query component, with spaces as `%20` like Kakao (not `+`).
pub(super) fn encode_query_component(value: &str) -> String {
    // byte_serialize encodes a literal '+' as %2B, so every '+' left in its output is a space.
    form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `base` with `params` appended to its query (keeping any query it already has).
pub(super) fn with_query(mut base: Url, params: &[(&str, &str)]) -> Url {
    let mut query = base.query().unwrap_or_default().to_owned();
    for (name, value) in params {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&encode_query_component(value));
    }
    base.set_query(Some(&query));
    base
}

/// A 302 redirect to `location`.
pub(super) fn redirect(location: &Url) -> Response {
    match HeaderValue::from_str(location.as_str()) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        // A serialized Url is always ASCII without control characters; answer rather than panic.
        Err(_) => OAuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "redirect location is not a valid header value",
        )
        .into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// GET /oauth/authorize
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::user_json;

    #[test]
    pub(super) fn query_components_encode_spaces_as_percent_20() {
        assert_eq!(
            encode_query_component("User denied access"),
            "User%20denied%20access"
        );
        assert_eq!(encode_query_component("a+b&c"), "a%2Bb%26c");
    }

    #[test]
    pub(super) fn with_query_keeps_an_existing_query() {
        let base = Url::parse("http://localhost/cb?x=1").expect("a literal URL");
        let url = with_query(base, &[("code", "abc"), ("state", "s t")]);
        assert_eq!(url.as_str(), "http://localhost/cb?x=1&code=abc&state=s%20t");
    }

    #[test]
    pub(super) fn repeated_parameters_are_rejected() {
        assert!(parse_params(b"code=a&code=b").is_err());
        assert!(parse_params(b"code=a&state=b").is_ok());
    }

    #[test]
    pub(super) fn user_json_omits_missing_image_and_email() {
        let value = user_json(&KakaoUser::default_user());
        assert_eq!(value["id"], 1001);
        assert_eq!(value["properties"]["nickname"], "카카오친구");
        assert!(value["properties"].get("profile_image").is_none());
        assert!(
            value["kakao_account"]["profile"]
                .get("profile_image_url")
                .is_none()
        );
        assert!(value["kakao_account"].get("email").is_none());
    }
}

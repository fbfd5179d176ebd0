//! Kakao login: the OAuth 2.0 authorization-code flow against Kakao's endpoints (or any server
//! speaking the same wire format, configured by URL).

use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, RedirectUrl, TokenResponse, TokenUrl, basic::BasicClient,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use crate::config::KakaoArgs;

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct KakaoClient {
    oauth: ConfiguredClient,
    http: reqwest::Client,
    user_url: Url,
}

/// The parts of Kakao's `/v2/user/me` answer we use.
#[derive(Debug, Clone, Deserialize)]
pub struct KakaoProfile {
    pub id: i64,
    #[serde(default)]
    pub kakao_account: Option<KakaoAccount>,
    #[serde(default)]
    pub properties: Option<KakaoProperties>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KakaoAccount {
    #[serde(default)]
    pub profile: Option<KakaoAccountProfile>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KakaoAccountProfile {
    pub nickname: Option<String>,
    pub profile_image_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KakaoProperties {
    pub nickname: Option<String>,
    pub profile_image: Option<String>,
}

impl KakaoProfile {
    pub fn nickname(&self) -> String {
        self.field(|a| &a.nickname, |p| &p.nickname)
            .unwrap_or_default()
    }

    /// The profile image, when it is an https URL (anything else is not shown to others).
    pub fn profile_image(&self) -> Option<String> {
        self.field(|a| &a.profile_image_url, |p| &p.profile_image)
            .filter(|u| (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 1000)
    }

    /// A profile field: the account profile's when it has one, else the properties'.
    fn field(
        &self,
        in_account: impl Fn(&KakaoAccountProfile) -> &Option<String>,
        in_properties: impl Fn(&KakaoProperties) -> &Option<String>,
    ) -> Option<String> {
        let account = self
            .kakao_account
            .as_ref()
            .and_then(|a| a.profile.as_ref())
            .and_then(|p| in_account(p).clone());
        account.or_else(|| {
            self.properties
                .as_ref()
                .and_then(|p| in_properties(p).clone())
        })
    }
}

/// Why a login failed; turned into `/login?error=<code>`.
#[derive(Debug, thiserror::Error)]
pub enum KakaoError {
    #[error("token exchange failed: {0}")]
    Token(String),
    #[error("user fetch failed: {0}")]
    User(String),
}

impl KakaoClient {
    pub fn new(args: &KakaoArgs, client_id: &str, redirect_uri: &str) -> anyhow::Result<Self> {
        let mut oauth = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_auth_uri(AuthUrl::from_url(args.kakao_auth_url.clone()))
            .set_token_uri(TokenUrl::from_url(args.kakao_token_url.clone()))
            .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned())?)
            // Kakao reads client_id and client_secret from the form body, not Basic auth.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &args.kakao_client_secret {
            oauth = oauth.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        let http = reqwest::Client::builder()
            // Following redirects from the token endpoint would be an SSRF vector.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self {
            oauth,
            http,
            user_url: args.kakao_user_url.clone(),
        })
    }

    /// The URL to send the browser to, carrying `state`.
    pub fn authorize_url(&self, state: String) -> Url {
        self.oauth.authorize_url(|| CsrfToken::new(state)).url().0
    }

    /// Exchanges the code for an access token and fetches the Kakao profile with it.
    pub async fn login(&self, code: String) -> Result<KakaoProfile, KakaoError> {
        let token = self
            .oauth
            .exchange_code(AuthorizationCode::new(code))
            .request_async(&self.http)
            .await
            .map_err(|e| KakaoError::Token(e.to_string()))?;
        let response = self
            .http
            .get(self.user_url.clone())
            .bearer_auth(token.access_token().secret())
            .send()
            .await
            .map_err(|e| KakaoError::User(e.to_string()))?;
        if !response.status().is_success() {
            return Err(KakaoError::User(format!("status {}", response.status())));
        }
        response
            .json::<KakaoProfile>()
            .await
            .map_err(|e| KakaoError::User(e.to_string()))
    }
}

//! DevCloud (Huawei Cloud CodeArts Repo): bound to the tenant's own cloud account by default,
//! so nothing is stored, checked or revoked here. The build service gets the region's clone
//! address (`CODESOURCE_DEVCLOUD_URL`) and uses the tenant's cloud credentials.

use super::{CodeHost, CredentialShape, Instance};
use crate::config::HostConfig;
use crate::secret::SecretString;
use app::api::{BindMethod, HostError, HostInfo, Provider, RevocationPolicy};

/// CodeArts Repo's HTTPS clone host of the cn-north-4 region; other regions set their own.
pub const DEFAULT_URL: &str = "https://codehub.devcloud.cn-north-4.huaweicloud.com";

pub struct DevCloud {
    url: String,
}

impl DevCloud {
    pub fn new(c: &HostConfig) -> Self {
        DevCloud {
            url: c.url.clone().unwrap_or_else(|| DEFAULT_URL.into()),
        }
    }
}

#[async_trait::async_trait]
impl CodeHost for DevCloud {
    fn provider(&self) -> Provider {
        Provider::DevCloud
    }

    fn info(&self) -> HostInfo {
        HostInfo {
            provider: Provider::DevCloud,
            bind: BindMethod::Default,
            revocation: RevocationPolicy::NotApplicable,
            default_address: None,
            scopes: vec![],
            repositories: false,
        }
    }

    /// Never stored, so never checked: the tenant's cloud account is always there.
    async fn validate(&self, _at: Instance<'_>, _token: &SecretString) -> Result<(), HostError> {
        Ok(())
    }

    fn credential(&self, _at: Instance<'_>, _account: &str) -> CredentialShape {
        CredentialShape {
            base_url: self.url.clone(),
            api_url: None,
            git_username: None,
        }
    }
}

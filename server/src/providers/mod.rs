//! Clients for the code hosts. Every base URL is configurable (self-managed GitLab, GitHub
//! Enterprise), and every outbound connection to a user-given address goes through the
//! [`net::OutboundPolicy`], and every answer is read within the [`limits`].

pub mod address;
pub mod avatar;
pub mod gitlab;
pub mod instance;
pub mod limits;
pub mod net;
pub mod oauth;
#[cfg(test)]
mod test_support;

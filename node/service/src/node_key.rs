//! Node keys: the ed25519 identity a node has on the network (its peer id), separate from
//! any validator key. A chain spec lists the peer ids allowed to connect.
//!
//! A node key lives in the base path as 64 hex characters (file mode 0600), created on
//! first start when missing. Dev and local testnets use well-known keys derived from a
//! name (`//Alice`), never to be used on a live chain.

use std::path::Path;

/// A node's 32-byte ed25519 secret.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeKey(pub [u8; 32]);

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeKey(..)")
    }
}

/// Why a node key is unusable.
#[derive(Debug, thiserror::Error)]
pub enum NodeKeyError {
    /// Not `//Name` and not 32 bytes of hex.
    #[error("a node key is 64 hex characters (optionally 0x-prefixed) or //Name for a dev key")]
    Malformed,
    /// The key file could not be read or written.
    #[error("node key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file refused to be overwritten.
    #[error("node key file {path} exists; refusing to overwrite a node identity")]
    Exists {
        /// The file.
        path: String,
    },
}

impl NodeKey {
    /// The well-known dev node key for `name` (as in `//Alice`).
    pub fn dev(name: &str) -> NodeKey {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"wijk-dev-node-key:");
        hasher.update(name.as_bytes());
        NodeKey(*hasher.finalize().as_bytes())
    }

    /// Parses `//Name` (a dev key) or 64 hex characters.
    pub fn parse(text: &str) -> Result<NodeKey, NodeKeyError> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("//") {
            return if name.is_empty() {
                Err(NodeKeyError::Malformed)
            } else {
                Ok(NodeKey::dev(name))
            };
        }
        let hex_text = text.strip_prefix("0x").unwrap_or(text);
        let bytes = hex::decode(hex_text).map_err(|_| NodeKeyError::Malformed)?;
        bytes
            .try_into()
            .map(NodeKey)
            .map_err(|_| NodeKeyError::Malformed)
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate() -> NodeKey {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        NodeKey(secret)
    }

    /// The peer id other nodes know this key by.
    pub fn peer_id(&self) -> wijk_network::PeerId {
        self.keypair().public().to_peer_id()
    }

    /// The libp2p keypair.
    pub fn keypair(&self) -> wijk_network::identity::Keypair {
        wijk_network::identity::Keypair::ed25519_from_bytes(self.0)
            // Every 32-byte string is a valid ed25519 secret.
            .unwrap_or_else(|_| unreachable!("ed25519 secrets are any 32 bytes"))
    }

    /// Writes the key to a new file (mode 0600); refuses to overwrite one.
    pub fn write_new(&self, path: &Path) -> Result<(), NodeKeyError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let file_error = |source| NodeKeyError::File {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(file_error)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AlreadyExists => NodeKeyError::Exists {
                    path: path.display().to_string(),
                },
                _ => file_error(source),
            })?;
        writeln!(file, "{}", hex::encode(self.0)).map_err(file_error)?;
        file.sync_all().map_err(file_error)
    }

    /// Reads the key at `path`, creating it first if there is none. Returns whether it
    /// was created.
    pub fn load_or_create(path: &Path) -> Result<(NodeKey, bool), NodeKeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((NodeKey::parse(&text)?, false)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = NodeKey::generate();
                key.write_new(path)?;
                Ok((key, true))
            }
            Err(source) => Err(NodeKeyError::File {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_persist_and_never_overwrite() {
        assert_eq!(NodeKey::parse("//Alice").unwrap(), NodeKey::dev("Alice"));
        assert_ne!(
            NodeKey::dev("Alice").peer_id(),
            NodeKey::dev("Bob").peer_id()
        );
        let hex_key = format!("0x{}", hex::encode([7u8; 32]));
        assert_eq!(NodeKey::parse(&hex_key).unwrap(), NodeKey([7; 32]));
        assert!(matches!(
            NodeKey::parse("abc"),
            Err(NodeKeyError::Malformed)
        ));
        assert!(matches!(NodeKey::parse("//"), Err(NodeKeyError::Malformed)));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("network/node_key");
        let (created, fresh) = NodeKey::load_or_create(&path).unwrap();
        assert!(fresh);
        let (loaded, fresh) = NodeKey::load_or_create(&path).unwrap();
        assert!(!fresh);
        assert_eq!(created, loaded);
        assert!(matches!(
            NodeKey::dev("x").write_new(&path),
            Err(NodeKeyError::Exists { .. })
        ));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

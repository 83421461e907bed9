//! The permissioned peer-to-peer network of a wijk chain, over libp2p (TCP, noise,
//! yamux, identify, ping): gossip of consensus messages and transactions to every peer,
//! and request-response for block sync.
//!
//! Owns: the libp2p swarm, who may connect (an allow-list of node keys: validators and
//! the full nodes the chain spec allows; anyone else is refused at connection time and
//! logged), connection limits, and moving bytes. It runs as one actor behind bounded
//! channels ([`NetworkHandle`] in, [`NetworkEvent`] out).
//! Must never: interpret what it carries. Messages are opaque bytes, checked (signatures,
//! limits) by consensus, the pool and import; a peer's bytes are never trusted here.

mod codec;

use codec::SyncCodec;
pub use codec::MAX_SYNC_MESSAGE_BYTES;
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, noise, ping, request_response, tcp,
    yamux, StreamProtocol, Swarm,
};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub use libp2p::{identity, multiaddr, Multiaddr, PeerId};

/// Largest gossip message: a full block rides on a proposal.
pub const MAX_GOSSIP_BYTES: usize = 17 * 1024 * 1024;
/// Requests and events queued between the network and the node, each way.
pub const CHANNEL_CAPACITY: usize = 1_024;

/// What a gossip message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Votes, certificates and proposals.
    Consensus,
    /// Transactions submitted to some node, for every pool.
    Transactions,
}

/// The gossip id of `message`: a hash of its source, sequence number and data.
fn publication_and_content_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    let mut hasher = blake3::Hasher::new_derive_key("wijk-chain gossip message id 2026-11");
    let source = message
        .source
        .map(|peer| peer.to_bytes())
        .unwrap_or_default();
    hasher.update(&(source.len() as u64).to_le_bytes());
    hasher.update(&source);
    hasher.update(&message.sequence_number.unwrap_or_default().to_le_bytes());
    hasher.update(&message.data);
    gossipsub::MessageId::from(hasher.finalize().as_bytes().to_vec())
}

impl Topic {
    fn name(self, chain: &str) -> String {
        match self {
            // Version 2: messages are no longer signed by their publisher. A node of
            // version 1 would drop every unsigned message, so the two must not share a
            // topic and fail silently.
            Topic::Consensus => format!("/wijk/{chain}/consensus/2"),
            Topic::Transactions => format!("/wijk/{chain}/transactions/2"),
        }
    }
}

/// How the network is set up.
#[derive(Clone)]
pub struct NetworkConfig {
    /// This node's key (its peer id is derived from it).
    pub node_key: Keypair,
    /// Identifies the chain on the wire (topics and sync protocol), e.g. its genesis hash.
    pub chain: String,
    /// Addresses to listen on, e.g. `/ip4/127.0.0.1/tcp/30333`.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start.
    pub bootnodes: Vec<Multiaddr>,
    /// Node keys allowed to connect (this node's own is implied).
    pub allowed_peers: Vec<PeerId>,
    /// Most connections in total.
    pub max_connections: u32,
    /// Most connections per peer.
    pub max_connections_per_peer: u32,
}

/// What the network tells the node.
#[derive(Debug)]
pub enum NetworkEvent {
    /// Listening on this address.
    Listening(Multiaddr),
    /// A permitted peer connected.
    PeerConnected(PeerId),
    /// A peer's last connection closed.
    PeerDisconnected(PeerId),
    /// A peer not in the allow-list tried to connect (or was dialled) and was refused.
    Refused {
        /// The peer, if the handshake got far enough to know it.
        peer: Option<PeerId>,
        /// Why.
        reason: String,
    },
    /// A gossip message.
    Gossip {
        /// The peer that forwarded it.
        from: PeerId,
        /// Its topic.
        topic: Topic,
        /// Its bytes, unchecked.
        data: Vec<u8>,
    },
    /// A peer asks for blocks; answer with [`NetworkHandle::respond`] and this id.
    SyncRequest {
        /// Who asks.
        from: PeerId,
        /// Answer with this.
        id: u64,
        /// The request's bytes, unchecked.
        request: Vec<u8>,
    },
}

/// Why the network failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The swarm could not be built or could not listen.
    #[error("network setup: {reason}")]
    Setup {
        /// Why.
        reason: String,
    },
    /// The network actor has stopped.
    #[error("the network has stopped")]
    Stopped,
    /// A sync request failed (peer gone, timeout, refused).
    #[error("request to {peer} failed: {reason}")]
    Request {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
    },
}

enum Command {
    Publish(Topic, Vec<u8>),
    Dial(Multiaddr),
    Request {
        peer: PeerId,
        request: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetworkError>>,
    },
    Respond {
        id: u64,
        response: Vec<u8>,
    },
    Peers(oneshot::Sender<Vec<PeerId>>),
    Reconnect,
}

/// The node's side of the network actor.
#[derive(Clone)]
pub struct NetworkHandle {
    /// This node's peer id.
    pub local_peer_id: PeerId,
    commands: mpsc::Sender<Command>,
}

impl NetworkHandle {
    async fn send(&self, command: Command) -> Result<(), NetworkError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// Gossips `data` to every peer.
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        self.send(Command::Publish(topic, data)).await
    }

    /// Dials an address (a permitted peer's).
    pub async fn dial(&self, address: Multiaddr) -> Result<(), NetworkError> {
        self.send(Command::Dial(address)).await
    }

    /// Asks `peer` for blocks and waits for its answer.
    pub async fn request(&self, peer: PeerId, request: Vec<u8>) -> Result<Vec<u8>, NetworkError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Request {
            peer,
            request,
            reply,
        })
        .await?;
        answer.await.map_err(|_| NetworkError::Stopped)?
    }

    /// Answers the [`NetworkEvent::SyncRequest`] with `id`.
    pub async fn respond(&self, id: u64, response: Vec<u8>) -> Result<(), NetworkError> {
        self.send(Command::Respond { id, response }).await
    }

    /// Closes every connection; peers are dialled again (bootnodes by the node's redial
    /// loop, and peers dial back). A node that hears nothing while its peers are connected
    /// uses this to get fresh connections.
    pub async fn reconnect(&self) -> Result<(), NetworkError> {
        self.send(Command::Reconnect).await
    }

    /// The peers connected now.
    pub async fn peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Peers(reply)).await?;
        answer.await.map_err(|_| NetworkError::Stopped)
    }
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    // First, so a refused peer is turned away before any other protocol sees it.
    allowed: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    gossip: gossipsub::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
}

fn setup_error(reason: impl std::fmt::Display) -> NetworkError {
    NetworkError::Setup {
        reason: reason.to_string(),
    }
}

/// Starts the network actor on the current tokio runtime.
pub fn start(
    config: NetworkConfig,
) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
    let local_peer_id = config.node_key.public().to_peer_id();
    let topics: Vec<(Topic, gossipsub::IdentTopic)> = [Topic::Consensus, Topic::Transactions]
        .into_iter()
        .map(|topic| (topic, gossipsub::IdentTopic::new(topic.name(&config.chain))))
        .collect();
    let sync_protocol = StreamProtocol::try_from_owned(format!("/wijk/{}/sync/1", config.chain))
        .map_err(setup_error)?;
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(config.max_connections))
        .with_max_established_per_peer(Some(config.max_connections_per_peer))
        .with_max_pending_incoming(Some(config.max_connections));
    let allowed_peers = config.allowed_peers.clone();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(config.node_key.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(setup_error)?
        .with_behaviour(|key| {
            let gossip_config = gossipsub::ConfigBuilder::default()
                .max_transmit_size(MAX_GOSSIP_BYTES)
                // Messages are not signed by their publisher (see MessageAuthenticity
                // below), so only the fields they carry are checked.
                .validation_mode(gossipsub::ValidationMode::Permissive)
                // A message's id is its publication (source and random sequence number)
                // together with its content. The publication: consensus repeats a vote or
                // certificate on each timeout so peers that missed it (or restarted) get
                // it, and an id of the content alone would suppress the repeat as a
                // duplicate. The content: messages are unsigned, so without it a peer
                // could resend a message's source and sequence number with other bytes,
                // and neighbours that got its copy first would drop the real one.
                .message_id_fn(publication_and_content_id)
                .heartbeat_interval(Duration::from_millis(500))
                // A chain has a handful of validators: keep every peer in the mesh.
                .mesh_n_low(1)
                .mesh_outbound_min(0)
                .mesh_n(8)
                .mesh_n_high(16)
                .build()
                .map_err(|e| e.to_string())?;
            let mut allowed = allow_block_list::Behaviour::default();
            for peer in &allowed_peers {
                allowed.allow_peer(*peer);
            }
            Ok(Behaviour {
                allowed,
                limits: connection_limits::Behaviour::new(limits),
                identify: identify::Behaviour::new(identify::Config::new(
                    "/wijk/1".into(),
                    key.public(),
                )),
                ping: ping::Behaviour::new(ping::Config::new()),
                // Unsigned: every peer is on the allow-list and authenticated by noise,
                // and what travels is signed where it matters (transactions by their
                // signer, votes and certificates by validators). A publisher's signature
                // costs a signing per message and a check per message and peer: signed,
                // gossipsub took 11 % of four validators' CPU at 1,000 tx/s (perf), and
                // unsigned they spend about 5 % less CPU per transaction at 1,000 and
                // 4,000 tx/s (A/B runs). The author and a random sequence number still
                // give each publication its own message id.
                gossip: gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Author(key.public().to_peer_id()),
                    gossip_config,
                )?,
                sync: request_response::Behaviour::new(
                    [(sync_protocol, request_response::ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(30)),
                ),
            })
        })
        .map_err(setup_error)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    for (_, topic) in &topics {
        swarm
            .behaviour_mut()
            .gossip
            .subscribe(topic)
            .map_err(setup_error)?;
    }
    for address in &config.listen {
        swarm.listen_on(address.clone()).map_err(setup_error)?;
    }
    for address in &config.bootnodes {
        if let Err(error) = swarm.dial(address.clone()) {
            tracing::warn!(target: "network", %address, %error, "cannot dial bootnode");
        }
    }
    let (commands, command_queue) = mpsc::channel(CHANNEL_CAPACITY);
    let (events, event_queue) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(run(swarm, topics, command_queue, events));
    Ok((
        NetworkHandle {
            local_peer_id,
            commands,
        },
        event_queue,
    ))
}

async fn run(
    mut swarm: Swarm<Behaviour>,
    topics: Vec<(Topic, gossipsub::IdentTopic)>,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetworkEvent>,
) {
    let mut pending_requests: HashMap<
        request_response::OutboundRequestId,
        oneshot::Sender<Result<Vec<u8>, NetworkError>>,
    > = HashMap::new();
    let mut pending_responses: HashMap<u64, request_response::ResponseChannel<Vec<u8>>> =
        HashMap::new();
    let mut next_request_id = 0u64;
    loop {
        tokio::select! {
            command = commands.recv() => {
                let Some(command) = command else {
                    return; // The node dropped its handle: shut down.
                };
                match command {
                    Command::Publish(topic, data) => {
                        let Some((_, ident)) = topics.iter().find(|(t, _)| *t == topic) else {
                            continue;
                        };
                        match swarm.behaviour_mut().gossip.publish(ident.clone(), data) {
                            Ok(_) => {}
                            // Alone (or not yet meshed): nothing to send to, not an error.
                            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {}
                            Err(error) => {
                                tracing::debug!(target: "network", ?topic, %error, "gossip not sent")
                            }
                        }
                    }
                    Command::Dial(address) => {
                        if let Err(error) = swarm.dial(address.clone()) {
                            tracing::warn!(target: "network", %address, %error, "cannot dial");
                        }
                    }
                    Command::Request { peer, request, reply } => {
                        let id = swarm.behaviour_mut().sync.send_request(&peer, request);
                        pending_requests.insert(id, reply);
                    }
                    Command::Respond { id, response } => {
                        if let Some(channel) = pending_responses.remove(&id) {
                            // The peer may be gone; nothing to do then.
                            let _ = swarm.behaviour_mut().sync.send_response(channel, response);
                        }
                    }
                    Command::Peers(reply) => {
                        let _ = reply.send(swarm.connected_peers().copied().collect());
                    }
                    Command::Reconnect => {
                        let peers: Vec<PeerId> = swarm.connected_peers().copied().collect();
                        tracing::info!(target: "network", peers = peers.len(), "closing every connection to reconnect");
                        for peer in peers {
                            let _ = swarm.disconnect_peer_id(peer);
                        }
                    }
                }
            }
            event = swarm.select_next_some() => {
                let forward = match event {
                    SwarmEvent::NewListenAddr { address, .. } => {
                        tracing::info!(target: "network", "listening on {address}/p2p/{}", swarm.local_peer_id());
                        Some(NetworkEvent::Listening(address))
                    }
                    SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                        tracing::debug!(target: "network", %peer_id, "connected");
                        (num_established.get() == 1).then_some(NetworkEvent::PeerConnected(peer_id))
                    }
                    SwarmEvent::ConnectionClosed { peer_id, num_established, .. } => {
                        (num_established == 0).then_some(NetworkEvent::PeerDisconnected(peer_id))
                    }
                    SwarmEvent::IncomingConnectionError { peer_id, error, send_back_addr, .. } => {
                        refused(peer_id, &error.to_string(), &send_back_addr.to_string())
                    }
                    SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                        refused(peer_id, &error.to_string(), "outgoing")
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Gossip(gossipsub::Event::Message {
                        propagation_source,
                        message,
                        ..
                    })) => topics
                        .iter()
                        .find(|(_, ident)| ident.hash() == message.topic)
                        .map(|(topic, _)| NetworkEvent::Gossip {
                            from: propagation_source,
                            topic: *topic,
                            data: message.data,
                        }),
                    SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        peer,
                        message,
                        ..
                    })) => match message {
                        request_response::Message::Request { request, channel, .. } => {
                            next_request_id += 1;
                            pending_responses.insert(next_request_id, channel);
                            Some(NetworkEvent::SyncRequest { from: peer, id: next_request_id, request })
                        }
                        request_response::Message::Response { request_id, response } => {
                            if let Some(reply) = pending_requests.remove(&request_id) {
                                let _ = reply.send(Ok(response));
                            }
                            None
                        }
                    },
                    SwarmEvent::Behaviour(BehaviourEvent::Sync(
                        request_response::Event::OutboundFailure { peer, request_id, error, .. },
                    )) => {
                        if let Some(reply) = pending_requests.remove(&request_id) {
                            let _ = reply.send(Err(NetworkError::Request { peer, reason: error.to_string() }));
                        }
                        None
                    }
                    _ => None,
                };
                if let Some(event) = forward {
                    // A full queue means the node is behind: wait (bounded), do not drop.
                    if events.send(event).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Logs and reports a refused or failed connection.
fn refused(peer: Option<PeerId>, reason: &str, address: &str) -> Option<NetworkEvent> {
    tracing::warn!(target: "network", ?peer, %address, %reason, "connection refused or failed");
    Some(NetworkEvent::Refused {
        peer,
        reason: reason.to_string(),
    })
}

/// The peer id of a 32-byte ed25519 node secret.
pub fn peer_id_of_secret(secret: [u8; 32]) -> Result<PeerId, NetworkError> {
    let key = Keypair::ed25519_from_bytes(secret).map_err(setup_error)?;
    Ok(key.public().to_peer_id())
}

#[cfg(test)]
mod tests {
    use super::publication_and_content_id;
    use libp2p::gossipsub::{IdentTopic, Message};
    use libp2p::PeerId;

    #[test]
    fn a_resent_publication_with_other_bytes_gets_another_id() {
        let message = |source, sequence_number, data: &[u8]| Message {
            source: Some(source),
            data: data.to_vec(),
            sequence_number: Some(sequence_number),
            topic: IdentTopic::new("t").hash(),
        };
        let (alice, bob) = (PeerId::random(), PeerId::random());
        let id = publication_and_content_id(&message(alice, 7, b"vote"));
        assert_eq!(id, publication_and_content_id(&message(alice, 7, b"vote")));
        // Other bytes under the same publication: not a duplicate of the real message.
        assert_ne!(id, publication_and_content_id(&message(alice, 7, b"junk")));
        // A repeat of the same bytes is a new publication, so it gets through.
        assert_ne!(id, publication_and_content_id(&message(alice, 8, b"vote")));
        assert_ne!(id, publication_and_content_id(&message(bob, 7, b"vote")));
    }
}

//! Fetching what this node lacks from its peers: one block by hash (asked of every peer at
//! once, the first answer that is the block asked for wins), and the plain request/answer
//! exchange the marshal uses for sync.

use crate::protocol::{SyncRequest, SyncResponse};
use futures::stream::{FuturesUnordered, StreamExt};
use parity_scale_codec::Encode;
use std::sync::Arc;
use std::time::Duration;
use wijk_network::{NetworkHandle, PeerId};
use wijk_primitives::{decode_bounded, Hash};
use wijk_runtime::Block;

/// How long to wait for one peer's answer.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The connected peers.
pub(super) async fn peers(network: &NetworkHandle) -> Vec<PeerId> {
    network.peers().await.unwrap_or_default()
}

/// Asks `peer`; `None` if it did not answer in time or answered nonsense.
pub(super) async fn ask(
    network: &NetworkHandle,
    peer: PeerId,
    request: Vec<u8>,
) -> Option<SyncResponse> {
    let answer = tokio::time::timeout(REQUEST_TIMEOUT, network.request(peer, request)).await;
    match answer {
        Ok(Ok(bytes)) => match decode_bounded::<SyncResponse>(
            "sync response",
            &bytes,
            wijk_network::MAX_SYNC_MESSAGE_BYTES,
        ) {
            Ok(response) => Some(response),
            Err(error) => {
                tracing::warn!(target: "sync", %peer, %error, "malformed sync answer");
                None
            }
        },
        Ok(Err(error)) => {
            tracing::debug!(target: "sync", %peer, %error, "sync request failed");
            None
        }
        Err(_) => {
            tracing::debug!(target: "sync", %peer, "sync request timed out");
            None
        }
    }
}

/// The block with `hash`, asked of every peer at once; `None` if none has it (within one
/// request timeout, however many peers there are).
pub(super) async fn fetch_block(network: NetworkHandle, hash: Hash) -> Option<Arc<Block>> {
    let request = SyncRequest::Block { hash }.encode();
    let mut answers: FuturesUnordered<_> = peers(&network)
        .await
        .into_iter()
        .map(|peer| {
            let network = network.clone();
            let request = request.clone();
            async move { (peer, ask(&network, peer, request).await) }
        })
        .collect();
    while let Some((peer, answer)) = answers.next().await {
        if let Some(SyncResponse::Block(Some(block))) = answer {
            if block.header.hash() == hash {
                return Some(Arc::new(block));
            }
            tracing::warn!(target: "sync", %peer, %hash, "peer answered with another block");
        }
    }
    None
}

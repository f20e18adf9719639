//! Conversations kept in memory between `claude_conversation` calls, bounded
//! three ways: how many conversations (the least recently used goes first), how
//! many messages and how much text each keeps (its oldest turns go first), and
//! how long one may sit unused. Lives on the executor thread only.

use super::types::{Message, Role};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The store's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Conversations kept.
    pub conversations: usize,
    /// Messages kept per conversation.
    pub messages: usize,
    /// Text bytes kept per conversation.
    pub bytes: usize,
    /// Idle time before a conversation is forgotten.
    pub ttl: Duration,
}

#[derive(Debug)]
struct Conversation {
    messages: Vec<Message>,
    last_used: Instant,
    /// A call on this conversation is in flight.
    busy: bool,
}

/// Why a conversation cannot be continued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Never existed, expired, or was evicted.
    Unknown,
    /// Another call on it has not finished.
    Busy,
}

/// The conversations of one server.
#[derive(Debug)]
pub struct Store {
    limits: Limits,
    conversations: HashMap<String, Conversation>,
}

impl Store {
    /// An empty store.
    pub fn new(limits: Limits) -> Store {
        Store {
            limits,
            conversations: HashMap::new(),
        }
    }

    /// Conversations held now.
    pub fn len(&self) -> usize {
        self.conversations.len()
    }

    /// Whether no conversation is held.
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
    }

    /// Starts a call on `id`: its history so far, and the conversation marked busy
    /// until [`Store::finish`] or [`Store::release`].
    pub fn begin(&mut self, id: &str, now: Instant) -> Result<Vec<Message>, Refusal> {
        self.expire(now);
        let conversation = self.conversations.get_mut(id).ok_or(Refusal::Unknown)?;
        if conversation.busy {
            return Err(Refusal::Busy);
        }
        conversation.busy = true;
        conversation.last_used = now;
        Ok(conversation.messages.clone())
    }

    /// Ends a call on `id` without changing its history (the call failed or was cancelled).
    pub fn release(&mut self, id: &str) {
        if let Some(conversation) = self.conversations.get_mut(id) {
            conversation.busy = false;
        }
    }

    /// Records a finished turn in conversation `id` (created when new), then trims it
    /// to the limits and evicts the least recently used conversations beyond the count.
    pub fn finish(&mut self, id: &str, user: Message, assistant: Message, now: Instant) {
        self.expire(now);
        let conversation =
            self.conversations
                .entry(id.to_string())
                .or_insert_with(|| Conversation {
                    messages: Vec::new(),
                    last_used: now,
                    busy: false,
                });
        conversation.busy = false;
        conversation.last_used = now;
        conversation.messages.push(user);
        conversation.messages.push(assistant);
        trim(&mut conversation.messages, self.limits);
        while self.conversations.len() > self.limits.conversations {
            let oldest = self
                .conversations
                .iter()
                .filter(|(key, _)| key.as_str() != id)
                .min_by_key(|(_, c)| c.last_used)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => self.conversations.remove(&key),
                None => break,
            };
        }
    }

    /// Messages conversation `id` holds (0 when unknown).
    pub fn history_len(&self, id: &str) -> usize {
        self.conversations.get(id).map_or(0, |c| c.messages.len())
    }

    /// Forgets conversations unused for longer than the TTL (busy ones stay).
    fn expire(&mut self, now: Instant) {
        let ttl = self.limits.ttl;
        self.conversations
            .retain(|_, c| c.busy || now.saturating_duration_since(c.last_used) <= ttl);
    }
}

/// Drops the oldest turns until the history is within the limits. History always
/// starts with a user turn, as the API expects, so turns go in user/assistant pairs;
/// the latest exchange is always kept.
fn trim(messages: &mut Vec<Message>, limits: Limits) {
    let size = |m: &[Message]| m.iter().map(Message::size).sum::<usize>();
    while messages.len() > 2 && (messages.len() > limits.messages || size(messages) > limits.bytes)
    {
        let drop = if messages.get(1).is_some_and(|m| m.role == Role::Assistant) {
            2
        } else {
            1
        };
        messages.drain(..drop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        conversations: 2,
        messages: 4,
        bytes: 1000,
        ttl: Duration::from_secs(60),
    };

    fn turn(store: &mut Store, id: &str, n: usize, now: Instant) {
        store.finish(
            id,
            Message::text(Role::User, format!("q{n}")),
            Message::text(Role::Assistant, format!("a{n}")),
            now,
        );
    }

    fn texts(messages: &[Message]) -> Vec<String> {
        messages
            .iter()
            .map(|m| m.content.as_str().unwrap_or("?").to_string())
            .collect()
    }

    #[test]
    fn history_is_kept_in_order_and_trimmed_oldest_first_in_pairs() {
        let t0 = Instant::now();
        let mut store = Store::new(LIMITS);
        assert_eq!(store.begin("c1", t0), Err(Refusal::Unknown));
        for n in 1..=3 {
            turn(&mut store, "c1", n, t0);
        }
        let history = store.begin("c1", t0).expect("known");
        assert_eq!(
            texts(&history),
            ["q2", "a2", "q3", "a3"],
            "4 messages at most, oldest pair dropped"
        );
        assert_eq!(
            store.begin("c1", t0),
            Err(Refusal::Busy),
            "one call at a time"
        );
        store.release("c1");
        assert!(store.begin("c1", t0).is_ok(), "released");

        let mut small = Store::new(Limits { bytes: 5, ..LIMITS });
        turn(&mut small, "c", 1, t0);
        turn(&mut small, "c", 2, t0);
        let history = small.begin("c", t0).expect("known");
        assert_eq!(
            texts(&history),
            ["q2", "a2"],
            "byte cap drops old turns, keeps the last exchange"
        );
    }

    #[test]
    fn conversations_are_evicted_least_recently_used_first_and_expire() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut store = Store::new(LIMITS);
        turn(&mut store, "a", 1, t0);
        turn(&mut store, "b", 1, t0 + s(1));
        store.begin("a", t0 + s(2)).expect("a is known");
        store.release("a");
        turn(&mut store, "c", 1, t0 + s(3));
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.begin("b", t0 + s(3)),
            Err(Refusal::Unknown),
            "b was least recently used"
        );
        assert!(store.begin("a", t0 + s(3)).is_ok());
        store.release("a");
        assert_eq!(
            store.begin("c", t0 + s(3) + s(61)),
            Err(Refusal::Unknown),
            "idle past the TTL"
        );
        assert!(
            store.is_empty(),
            "expired conversations are dropped, not only hidden"
        );
    }
}

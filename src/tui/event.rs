//! The event source: terminal events (crossterm's `EventStream`, or any stream of them in tests
//! and the latency bench), a tick, and worker messages, merged with `tokio::select!`.

use std::io;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use ratatui::crossterm::event::Event as TermEvent;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Interval, MissedTickBehavior};

use super::app::Action;
use super::msg::Msg;

/// How often the UI ticks (spinner).
pub const TICK: Duration = Duration::from_millis(250);

/// One thing that happened, already turned into an [`Action`] (or the end of input).
pub enum Event {
    Action(Action),
    /// The terminal's event stream ended or failed.
    Closed(Option<io::Error>),
}

/// Merges the sources; terminal input is polled first so keys are never starved by messages.
pub struct Events<S> {
    term: S,
    msgs: UnboundedReceiver<Msg>,
    tick: Interval,
}

impl<S: Stream<Item = io::Result<TermEvent>> + Unpin> Events<S> {
    pub fn new(term: S, msgs: UnboundedReceiver<Msg>) -> Self {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Self { term, msgs, tick }
    }

    /// Waits for the next event.
    pub async fn next(&mut self) -> Event {
        loop {
            tokio::select! {
                biased;
                t = self.term.next() => return match t {
                    Some(Ok(TermEvent::Key(k))) => Event::Action(Action::Key(k)),
                    Some(Ok(TermEvent::Resize(..))) => Event::Action(Action::Resize),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => Event::Closed(Some(e)),
                    None => Event::Closed(None),
                },
                Some(m) = self.msgs.recv() => return Event::Action(Action::Msg(Box::new(m))),
                _ = self.tick.tick() => return Event::Action(Action::Tick),
            }
        }
    }
}

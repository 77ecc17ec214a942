//! Adds reach Redis in the order JavaScript made them. Each `addJobs` call takes a ticket
//! while still on the JS thread; its work on the tokio runtime waits for its turn, starts its
//! script call (polled once, so the command joins the connection's pipeline), and lets the
//! next ticket go before awaiting the reply. Calls still overlap in flight; only the order in
//! which they are issued is fixed. Without this, the runtime may start the newest task first,
//! and a later batch of same-tick adds would get lower job ids (and run earlier) than an
//! earlier one.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// The issue order of one engine's add calls.
#[derive(Default)]
pub(crate) struct AddOrder {
    next_ticket: AtomicU64,
    issued: AtomicU64,
    turn_changed: Notify,
}

impl AddOrder {
    /// A place in the order; take it synchronously, in call order.
    pub(crate) fn ticket(&self) -> u64 {
        self.next_ticket.fetch_add(1, Ordering::SeqCst)
    }

    /// Waits until every earlier ticket has issued its call (or given up). The returned turn
    /// passes to the next ticket when dropped.
    pub(crate) async fn turn(&self, ticket: u64) -> Turn<'_> {
        loop {
            let changed = self.turn_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.issued.load(Ordering::SeqCst) == ticket {
                return Turn(self);
            }
            changed.await;
        }
    }
}

/// The current turn; dropping it lets the next ticket go.
pub(crate) struct Turn<'a>(&'a AddOrder);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.issued.fetch_add(1, Ordering::SeqCst);
        self.0.turn_changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn turns_follow_tickets_whatever_order_tasks_start_in() {
        let order = Arc::new(AddOrder::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let tickets: Vec<u64> = (0..20).map(|_| order.ticket()).collect();
        // start the tasks newest first
        let tasks: Vec<_> = tickets
            .into_iter()
            .rev()
            .map(|t| {
                let (order, seen) = (order.clone(), seen.clone());
                tokio::spawn(async move {
                    let _turn = order.turn(t).await;
                    seen.lock().unwrap().push(t);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*seen.lock().unwrap(), (0..20).collect::<Vec<u64>>());
    }
}

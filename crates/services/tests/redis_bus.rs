//! The Redis bus against the real Redis (`TEST_REDIS_URL`, default the local server): a
//! publication reaches the other node's sockets once, in order, and the publisher's own sockets
//! at once; other deployments hear nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use talktime_domain::account::Role;
use talktime_domain::ids::AccountId;
use talktime_services::bus::{Audience, Delivery, EventBus, LocalDelivery, RedisBus, frame};
use talktime_services::cluster::Cluster;
use tokio::sync::Notify;

use common::redis_url;

/// A node's sockets, as far as the bus can tell: what was delivered, in order.
#[derive(Default)]
struct Recorder {
    deliveries: Mutex<Vec<(Audience, Delivery)>>,
    arrived: Notify,
}

impl LocalDelivery for Recorder {
    fn deliver(&self, audience: &Audience, delivery: &Delivery) {
        self.deliveries.lock().unwrap().push((audience.clone(), delivery.clone()));
        self.arrived.notify_waiters();
    }
}

impl Recorder {
    async fn wait_for(&self, count: usize) -> Vec<(Audience, Delivery)> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let notified = self.arrived.notified();
                if self.deliveries.lock().unwrap().len() >= count {
                    return self.deliveries.lock().unwrap().clone();
                }
                notified.await;
            }
        })
        .await
        .expect("deliveries in time")
    }
}

async fn node(namespace: &str) -> (Arc<RedisBus>, Arc<Recorder>) {
    let bus = RedisBus::start(&Cluster::new(&redis_url(), namespace).unwrap());
    let recorder = Arc::new(Recorder::default());
    bus.attach(recorder.clone());
    for _ in 0..400 {
        if bus.is_subscribed() {
            return (bus, recorder);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the bus never subscribed");
}

#[tokio::test]
async fn publications_reach_the_other_node_once_and_in_order() {
    let namespace = format!("talktime-test:{}", uuid::Uuid::now_v7());
    let (a, on_a) = node(&namespace).await;
    let (b, on_b) = node(&namespace).await;
    let (_elsewhere, on_elsewhere) = node(&format!("{namespace}:other")).await;
    let account = AccountId(uuid::Uuid::now_v7());
    let mut sent = Vec::new();
    for n in 0..50 {
        let delivery = Delivery::Frame(frame("tick", n));
        a.publish(Audience::Account { role: Role::User, id: account, except: Some(3) }, delivery.clone());
        sent.push((Audience::account(Role::User, account), delivery));
    }
    a.publish(Audience::Everyone(Role::Admin), Delivery::Close(4003));
    sent.push((Audience::Everyone(Role::Admin), Delivery::Close(4003)));

    // The other node gets everything, in order, without the publisher's `except`.
    assert_eq!(on_b.wait_for(sent.len()).await, sent);
    // B answers; by the time A hears it, Redis has handed A anything of its own it would echo.
    let answer = (Audience::Everyone(Role::User), Delivery::Frame(frame("answer", 0)));
    b.publish(answer.0.clone(), answer.1.clone());
    let on_a = on_a.wait_for(sent.len() + 1).await;
    // The publisher delivered to its own sockets itself, and not again from Redis.
    assert_eq!(on_a.len(), sent.len() + 1, "nothing of A's own came back");
    assert_eq!(on_a[0].0, Audience::Account { role: Role::User, id: account, except: Some(3) });
    assert_eq!(on_a.last(), Some(&answer));
    assert_eq!(on_b.deliveries.lock().unwrap().len(), sent.len() + 1, "nothing twice on B");
    // A deployment with another namespace heard nothing.
    assert!(on_elsewhere.deliveries.lock().unwrap().is_empty());
}

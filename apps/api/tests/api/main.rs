//! Every black-box test in one binary, a module per feature: the real server on a random port,
//! spoken to over HTTP and WebSocket as the apps do. One binary links once instead of once per
//! file, which on 2 cores was most of the test command's time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

mod abuse_limits;
mod account_deletion;
mod admin;
mod admin_catalog;
mod apns;
mod auth_login;
mod auth_tokens;
mod away;
mod calls;
mod catalog;
mod chats;
mod cli;
mod cluster;
mod commission;
mod console;
mod coupons;
mod disputes;
mod earlier_names;
mod gifts;
mod host_prices;
mod hostile_input;
mod http_basics;
mod kyc;
mod load;
mod notifications;
mod paid_time;
mod payouts;
mod profiles;
mod promotions;
mod push;
mod ratings;
mod recharges;
mod referrals;
mod shutdown;
mod sms_providers;
mod tax;
mod withdrawals;
mod ws_frames;

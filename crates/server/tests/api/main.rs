//! API tests: every test starts the real server on port 0 with a fresh database.

mod admin;
mod attendance;
mod auth;
mod calendar;
mod challenges;
#[path = "../common/child.rs"]
mod child;
mod concurrency;
mod connections;
mod csrf;
mod errors;
mod headers;
mod host_media;
mod kakao;
mod levels;
mod media;
mod moderation;
mod notice;
mod notifications;
mod ops;
mod push;
mod rankings;
mod reports;
mod rtc;
mod socket_access;
mod socket_errors;
mod socket_limits;
mod support;
mod tags;
mod uploads;
mod users;
mod web;
mod wishes;
mod ws;

//! Throwaway databases on the PostgreSQL and MariaDB/MySQL servers the test command starts.
//!
//! `SSGWAN_TEST_POSTGRES_URL` and `SSGWAN_TEST_MYSQL_URL` name a server by an administrator URL;
//! each test creates a database of its own there (so tests run in parallel without sharing
//! rows) and drops it at the end. When a variable is unset the backend is skipped with a note.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};

/// A database server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    MySql,
}

impl Server {
    /// The environment variable naming this server's administrator URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Server::Postgres => "SSGWAN_TEST_POSTGRES_URL",
            Server::MySql => "SSGWAN_TEST_MYSQL_URL",
        }
    }
}

/// A fresh, empty database; [`TestDatabase::drop_now`] removes it.
#[derive(Debug)]
pub struct TestDatabase {
    /// A URL of the database itself, for the code under test.
    pub url: String,
    admin: String,
    name: String,
    server: Server,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Replaces the database name (the URL's last path segment) of a server URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (server, _) = base.rsplit_once('/').expect("a database URL has a path");
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl TestDatabase {
    /// Creates a database named after `prefix`, this process and a counter, or returns `None`
    /// (with a note on stderr) when the server is not configured for this run.
    pub async fn create(server: Server, prefix: &str) -> Option<TestDatabase> {
        sqlx::any::install_default_drivers();
        let var = server.env_var();
        let Some(admin) = std::env::var(var).ok().filter(|v| !v.is_empty()) else {
            eprintln!("{var} is not set: the {server:?} case is skipped");
            return None;
        };
        let name = format!(
            "{prefix}{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .expect("connect to the test database server");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        conn.close().await.ok();
        Some(TestDatabase {
            url: with_database(&admin, &name),
            admin,
            name,
            server,
        })
    }

    /// Drops the database (whatever is still connected to it).
    pub async fn drop_now(self) {
        let mut conn = sqlx::AnyConnection::connect(&self.admin)
            .await
            .expect("connect to the test database server");
        let sql = match self.server {
            Server::Postgres => format!("DROP DATABASE {} WITH (FORCE)", self.name),
            Server::MySql => format!("DROP DATABASE {}", self.name),
        };
        conn.execute(sql.as_str()).await.expect("drop database");
        conn.close().await.ok();
    }
}

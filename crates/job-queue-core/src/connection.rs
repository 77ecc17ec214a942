//! Connections to Redis: one multiplexed, self-reconnecting connection shared by every
//! non-blocking call, and a dedicated connection per worker for the blocking marker wait.
//!
//! Three topologies ([`Topology`]), each through the `redis` crate's own support:
//! - one server: a [`ConnectionManager`];
//! - Redis Cluster: the crate's async cluster connection, which routes each command by its
//!   key's slot and follows `MOVED`/`ASK` and failovers itself; a queue's keys share one
//!   hash tag (see [`crate::keys::QueueKeys::check_one_slot`]). At most
//!   [`CLUSTER_IN_FLIGHT`] requests are in flight on it at once, and a redirection still
//!   unresolved when the crate gives up is retried like a connection that is down;
//! - Sentinel: the crate's sentinel client resolves the master (asking the sentinels in
//!   order, skipping those down, checking the named node's `ROLE`); when the connection fails
//!   (refused, dropped, no answer within the response timeout, or answered `READONLY` /
//!   `MASTERDOWN` by a demoted master) a task of its own resolves the master again and
//!   replaces the connection, one round of questions per retry delay however many commands
//!   wait. A watch asks a sentinel every 500 ms which master it names, so
//!   connections to a master that no longer is one but does not fail (frozen, cut off, or
//!   demoted and not yet reconfigured) are given up too, blocking reads included (see
//!   [`blocking_read`]).
//!
//! Adds that wait for replicas (`RedisConfig::wait`) go on a connection of their own, in
//! groups that share one `WAIT` ([`DurableAdds`]).
//!
//! A non-blocking command that meets a connection that is down is retried, as ioredis does:
//! up to [`RetryPolicy::max_retries`] times (or until the connection is back), waiting
//! [`RetryPolicy::delay`] between tries, each try being one reconnection attempt. Like
//! ioredis, a command cut off by a connection that drops while it is in flight is sent again
//! too: the worker's scripts are safe to replay (settling is keyed by the job's lock token),
//! while an add with a generated id may, in that rare case, be stored twice (give such jobs
//! a custom `jobId` when that matters).

use std::time::{Duration, Instant};

use std::sync::Arc;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Client, Cmd, ConnectionAddr, IntoConnectionInfo, Pipeline, RedisFuture,
    ServerErrorKind, Value,
};

use crate::error::{Error, Result};

/// Where Redis is. A `url` wins over the separate fields.
#[derive(Debug, Clone, Default)]
pub struct RedisConfig {
    /// A `redis://` or `rediss://` URL; when set, every other field but `retry` is ignored.
    pub url: Option<String>,
    /// Host name or address (default 127.0.0.1).
    pub host: Option<String>,
    /// TCP port (default 6379).
    pub port: Option<u16>,
    /// ACL user name (Redis 6+); none = the default user.
    pub username: Option<String>,
    /// Password (AUTH); none = no authentication.
    pub password: Option<String>,
    /// Database index (default 0).
    pub db: Option<i64>,
    /// Connect over TLS (`rediss://`).
    pub tls: bool,
    /// Certificates for TLS: the authorities to trust and a client certificate (mutual TLS).
    /// Any of them set turns TLS on, as `tls` does.
    pub tls_options: TlsOptions,
    /// How non-blocking commands ride out a connection that is down.
    pub retry: RetryPolicy,
    /// Adds count as done once this many replicas confirmed them (`WAIT`); none: at once,
    /// as BullMQ (asynchronous replication).
    pub wait: Option<WaitReplicas>,
    /// One server (the fields above), a Redis Cluster, or a master found through Sentinel.
    /// For a cluster or sentinels, `username`, `password`, `db` and TLS still say how to
    /// log in to the data nodes; `url`, `host` and `port` are not used.
    pub topology: Topology,
}

/// Replication-acknowledged adds: after adding jobs, `WAIT replicas timeout` on the same
/// connection; fewer confirmations in time is [`Error::NotReplicated`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitReplicas {
    /// Replicas that must confirm (at least 1).
    pub replicas: u32,
    /// How long to wait for them.
    pub timeout: Duration,
}

/// Replication-acknowledged adds: script calls that write jobs, each confirmed by a `WAIT`
/// sent right after it in one pipeline on one connection.
///
/// That connection is not the shared one: Redis answers nothing else on a connection while
/// a `WAIT` of it waits (up to its timeout when a replica is missing), so a `WAIT` there
/// would hold up every other call of the process, the workers' included. And adds are
/// committed in groups: a task sends what callers submitted since its last round trip as
/// one pipeline, the script calls then one `WAIT`, which confirms them all (`WAIT` counts
/// the replicas that have everything the connection wrote). One group is in flight at a
/// time, so under load the groups grow instead of queueing one `WAIT` (one replication
/// round trip, or one timeout) per add.
///
/// A group is always sent whole, `WAIT` last: when the connection fails and the shared
/// connection's retry resends it (to the new master after a failover), the scripts are
/// resent with it, never a `WAIT` alone, which would confirm nothing this connection wrote.
#[derive(Clone)]
pub struct DurableAdds {
    wait: WaitReplicas,
    con: SharedConnection,
    tx: tokio::sync::mpsc::UnboundedSender<DurableAdd>,
}

impl std::fmt::Debug for DurableAdds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableAdds")
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

/// One script call waiting for its group, and where its reply goes: the call's own reply
/// and the replicas the group's `WAIT` counted.
struct DurableAdd {
    cmd: Cmd,
    /// On a cluster, calls of one slot only share a group (a pipeline goes to one node):
    /// the queue's key base, whose keys share one slot.
    slot: String,
    reply: tokio::sync::oneshot::Sender<redis::RedisResult<(Value, u32)>>,
}

/// Most script calls in one group.
const DURABLE_GROUP: usize = 256;

impl DurableAdds {
    /// Opens the adds' own connection (as the shared one, with `retry`) and starts the task
    /// that sends the groups; it ends when the last clone is dropped.
    pub async fn open(
        connector: &Connector,
        retry: RetryPolicy,
        wait: WaitReplicas,
    ) -> Result<Self> {
        let con = shared(connector, retry).await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(send_groups(con.clone(), wait, rx));
        Ok(Self { wait, con, tx })
    }

    /// What the adds wait for.
    pub fn wait(&self) -> WaitReplicas {
        self.wait
    }

    /// The adds' connection (for `SCRIPT LOAD` after a `NOSCRIPT`).
    pub fn connection(&self) -> SharedConnection {
        self.con.clone()
    }

    /// Sends `cmd` (a script call on the keys of the queue whose key base is `slot`) with
    /// the next group: its reply (an error reply as [`Value::ServerError`]) and how many
    /// replicas the group's `WAIT` counted.
    pub async fn send(&self, cmd: Cmd, slot: &str) -> redis::RedisResult<(Value, u32)> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let gone = || {
            redis::RedisError::from((
                redis::ErrorKind::Client,
                "replication-acknowledged adds: the engine is closed",
            ))
        };
        self.tx
            .send(DurableAdd {
                cmd,
                slot: slot.to_owned(),
                reply,
            })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// The task of [`DurableAdds`]: one round of groups in flight, made of every call waiting
/// (one group; on a cluster, one per slot, sent side by side, each to its node with its own
/// `WAIT`).
async fn send_groups(
    con: SharedConnection,
    wait: WaitReplicas,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<DurableAdd>,
) {
    let mut waiting = Vec::with_capacity(DURABLE_GROUP);
    while rx.recv_many(&mut waiting, DURABLE_GROUP).await > 0 {
        // a caller that gave up (its future dropped) is not sent
        waiting.retain(|a: &DurableAdd| !a.reply.is_closed());
        if !con.is_cluster() {
            send_group(&con, wait, std::mem::take(&mut waiting)).await;
            continue;
        }
        let mut groups: std::collections::HashMap<String, Vec<DurableAdd>> = Default::default();
        for a in waiting.drain(..) {
            groups.entry(a.slot.clone()).or_default().push(a);
        }
        let mut sent = tokio::task::JoinSet::new();
        for group in groups.into_values() {
            let con = con.clone();
            sent.spawn(async move { send_group(&con, wait, group).await });
        }
        while sent.join_next().await.is_some() {}
    }
}

/// Sends `group`'s script calls then `WAIT` as one pipeline, and answers each call.
async fn send_group(con: &SharedConnection, wait: WaitReplicas, mut group: Vec<DurableAdd>) {
    if group.is_empty() {
        return;
    }
    let mut pipe = redis::pipe();
    for a in &group {
        pipe.add_command(a.cmd.clone());
    }
    pipe.cmd("WAIT")
        .arg(wait.replicas)
        .arg(wait.timeout.as_millis() as u64);
    let count = group.len() + 1;
    let mut replies = match con.clone().req_packed_commands(&pipe, 0, count).await {
        Ok(replies) if replies.len() == count => replies,
        Ok(replies) => {
            let e = redis::RedisError::from((
                redis::ErrorKind::Client,
                "replication-acknowledged adds: unexpected number of replies",
                format!("{} for {count} commands", replies.len()),
            ));
            for a in group {
                let _ = a.reply.send(Err(e.clone()));
            }
            return;
        }
        Err(e) => {
            for a in group {
                let _ = a.reply.send(Err(e.clone()));
            }
            return;
        }
    };
    let acked = replies.pop().expect("the WAIT reply");
    let acked = match redis::from_redis_value::<u32>(acked.clone()) {
        Ok(n) => Ok(n),
        Err(_) => acked
            .extract_error()
            .and_then(|v| Ok(redis::from_redis_value(v)?)),
    };
    for (a, reply) in group.drain(..).zip(replies) {
        let _ = a.reply.send(acked.clone().map(|n| (reply, n)));
    }
}

/// A node's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Which Redis deployment the engine talks to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Topology {
    /// One server.
    #[default]
    Single,
    /// A Redis Cluster, found through any of these nodes (the crate discovers the rest).
    Cluster {
        /// Seed nodes.
        nodes: Vec<NodeAddress>,
    },
    /// The master of the set `name`, found through these sentinels.
    Sentinel {
        /// Sentinel addresses.
        sentinels: Vec<NodeAddress>,
        /// The monitored master set's name.
        name: String,
        /// ACL user for the sentinels themselves.
        sentinel_username: Option<String>,
        /// Password for the sentinels themselves.
        sentinel_password: Option<String>,
    },
}

/// What a TLS connection trusts and presents. The server's certificate is always verified
/// (against the system's roots, or `ca` when given) unless `insecure` says otherwise.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM certificates of the authorities to trust instead of the system's roots.
    pub ca: Option<Vec<u8>>,
    /// PEM client certificate (chain) for mutual TLS; needs `client_key`.
    pub client_cert: Option<Vec<u8>>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<Vec<u8>>,
    /// Skip verifying the server's certificate (`rediss://…#insecure`): for tests only.
    pub insecure: bool,
}

impl TlsOptions {
    /// Whether anything is set (which turns TLS on).
    pub fn is_set(&self) -> bool {
        self.ca.is_some()
            || self.client_cert.is_some()
            || self.client_key.is_some()
            || self.insecure
    }
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the key, nor certificate bytes
        f.debug_struct("TlsOptions")
            .field("ca", &self.ca.is_some())
            .field("client_cert", &self.client_cert.is_some())
            .field("client_key", &self.client_key.is_some())
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// ioredis' `maxRetriesPerRequest` and `retryDelayOnFailover` for the shared connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of a command while the connection is down before it fails with a connection
    /// error (default 20); `None` retries until the connection is back.
    pub max_retries: Option<u32>,
    /// Wait between those retries (default 100 ms).
    pub delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: Some(20),
            delay: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    fn allows(&self, retries_made: u32) -> bool {
        self.max_retries.is_none_or(|max| retries_made < max)
    }
}

impl RedisConfig {
    /// The connection URL this config describes (`redis://127.0.0.1:6379/0` by default).
    /// `tls_options.insecure` adds redis-rs' `#insecure` fragment.
    pub fn to_url(&self) -> String {
        let url = self.base_url();
        if self.tls_options.insecure && !url.ends_with("#insecure") {
            format!("{url}#insecure")
        } else {
            url
        }
    }

    fn base_url(&self) -> String {
        if let Some(url) = &self.url {
            return url.clone();
        }
        let scheme = if self.tls || self.tls_options.is_set() {
            "rediss"
        } else {
            "redis"
        };
        let auth = match (&self.username, &self.password) {
            (Some(u), Some(p)) => format!("{}:{}@", encode(u), encode(p)),
            (None, Some(p)) => format!(":{}@", encode(p)),
            (Some(u), None) => format!("{}@", encode(u)),
            (None, None) => String::new(),
        };
        format!(
            "{scheme}://{auth}{}:{}/{}",
            self.host.as_deref().unwrap_or("127.0.0.1"),
            self.port.unwrap_or(6379),
            self.db.unwrap_or(0)
        )
    }

    /// A client for [`to_url`](Self::to_url)'s URL, with the TLS certificates when given.
    /// Connects nothing yet; a URL that cannot be parsed, certificates given for a URL that is
    /// not `rediss://`, or a client certificate without its key (or the reverse) is a
    /// validation error on `redis` (`redis.tls` for the certificates).
    ///
    /// Connections skip redis-rs' `CLIENT SETINFO` (library name and version): one command
    /// fewer for an ACL user to be granted, and one Redis before 7.2 does not know.
    pub fn client(&self) -> Result<Client> {
        self.single_client()
    }

    /// What the engine connects with for this config's [`Topology`]. Connects nothing yet.
    pub fn connector(&self) -> Result<Connector> {
        if let Some(config) = self.from_topology_url()? {
            return config.connector();
        }
        match &self.topology {
            Topology::Single => Ok(Connector::Single(self.single_client()?)),
            Topology::Cluster { nodes } => self.cluster_connector(nodes),
            Topology::Sentinel {
                sentinels,
                name,
                sentinel_username,
                sentinel_password,
            } => self.sentinel_connector(
                sentinels,
                name,
                sentinel_username.as_deref(),
                sentinel_password.as_deref(),
            ),
        }
    }

    /// The config a `redis+cluster://` or `redis+sentinel://` URL (`rediss+…` for TLS)
    /// describes, or None for any other URL:
    /// - `redis+cluster://[user[:password]@]host:port[,host:port…]`;
    /// - `redis+sentinel://[user[:password]@]host:port[,host:port…]/name[/db][?sentinelPassword=…&sentinelUsername=…]`,
    ///   where the login is the data nodes' and the sentinels' own comes in the query.
    pub fn from_topology_url(&self) -> Result<Option<RedisConfig>> {
        let Some(url) = self.url.as_deref() else {
            return Ok(None);
        };
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let (tls, cluster) = match scheme {
            "redis+cluster" => (false, true),
            "rediss+cluster" => (true, true),
            "redis+sentinel" => (false, false),
            "rediss+sentinel" => (true, false),
            _ => return Ok(None),
        };
        let bad = |why: &str| Error::validation("redis.url", format!("{why} in {scheme}:// URL"));
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (login, rest) = match rest.rsplit_once('@') {
            Some((login, rest)) => (Some(login), rest),
            None => (None, rest),
        };
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let nodes = hosts
            .split(',')
            .map(|h| {
                let (host, port) = h
                    .rsplit_once(':')
                    .ok_or_else(|| bad("a host without :port"))?;
                let port: u16 = port
                    .parse()
                    .map_err(|_| bad("a port that is not 1..65535"))?;
                if host.is_empty() || port == 0 {
                    return Err(bad("an empty host or port 0"));
                }
                Ok(NodeAddress {
                    host: host.to_owned(),
                    port,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut config = RedisConfig {
            url: None,
            tls: tls || self.tls,
            ..self.clone()
        };
        if let Some(login) = login {
            let (user, password) = match login.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (login, None),
            };
            config.username = (!user.is_empty()).then(|| decode(user)).transpose()?;
            config.password = password.map(decode).transpose()?;
        }
        let mut params = std::collections::HashMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(k, decode(v)?);
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if cluster {
            if !segments.is_empty() || !params.is_empty() {
                return Err(bad(
                    "a path or query (a cluster has one database and no name)",
                ));
            }
            config.topology = Topology::Cluster { nodes };
        } else {
            let Some(name) = segments.first() else {
                return Err(bad("no master set name (…/mymaster)"));
            };
            if let Some(db) = segments.get(1) {
                config.db = Some(
                    db.parse()
                        .map_err(|_| bad("a database that is not a number"))?,
                );
            }
            if segments.len() > 2 {
                return Err(bad("a path longer than /name/db"));
            }
            config.topology = Topology::Sentinel {
                sentinels: nodes,
                name: decode(name)?,
                sentinel_username: params.remove("sentinelUsername"),
                sentinel_password: params.remove("sentinelPassword"),
            };
            if let Some(k) = params.keys().next() {
                return Err(bad(&format!("an unknown parameter '{k}'")));
            }
        }
        Ok(Some(config))
    }

    fn tls_wanted(&self) -> bool {
        self.tls || self.tls_options.is_set()
    }

    fn tls_certificates(&self) -> Result<Option<redis::TlsCertificates>> {
        let t = &self.tls_options;
        if t.ca.is_none() && t.client_cert.is_none() && t.client_key.is_none() {
            return Ok(None);
        }
        if let Some(ca) = &t.ca {
            check_certificates(ca, "redis.tls.ca")?;
        }
        let client_tls = match (&t.client_cert, &t.client_key) {
            (Some(cert), Some(key)) => Some({
                check_certificates(cert, "redis.tls.cert")?;
                check_key(key)?;
                redis::ClientTlsConfig {
                    client_cert: cert.clone(),
                    client_key: key.clone(),
                }
            }),
            (None, None) => None,
            _ => {
                return Err(Error::validation(
                    "redis.tls",
                    "a client certificate needs its key, and a key its certificate",
                ))
            }
        };
        Ok(Some(redis::TlsCertificates {
            client_tls,
            root_cert: t.ca.clone(),
        }))
    }

    fn cluster_connector(&self, nodes: &[NodeAddress]) -> Result<Connector> {
        if nodes.is_empty() {
            return Err(Error::validation(
                "redis.cluster.nodes",
                "must list at least one node ({ host, port })",
            ));
        }
        if self.db.is_some_and(|db| db != 0) {
            return Err(Error::validation(
                "redis.db",
                "Redis Cluster has only database 0",
            ));
        }
        let tls = self.tls_wanted();
        let addrs: Vec<ConnectionAddr> = nodes
            .iter()
            .map(|n| {
                if tls {
                    ConnectionAddr::TcpTls {
                        host: n.host.clone(),
                        port: n.port,
                        insecure: self.tls_options.insecure,
                        tls_params: None,
                    }
                } else {
                    ConnectionAddr::Tcp(n.host.clone(), n.port)
                }
            })
            .collect();
        let certs = self.tls_certificates()?;
        let build = |response_timeout: Option<Duration>, retries: u32| -> Result<ClusterClient> {
            let mut b = ClusterClientBuilder::new(addrs.clone())
                .connection_timeout(Duration::from_secs(5))
                // the crate follows redirections and rides out short hiccups itself,
                // refreshing the slots; longer outages are retried by `SharedConnection`
                .retries(retries)
                .min_retry_wait(50)
                .max_retry_wait(1000);
            b = match response_timeout {
                Some(t) => b.response_timeout(t),
                // blocking reads (BZPOPMIN, XREAD BLOCK) wait as long as they were told
                None => b.response_timeout(Duration::from_secs(24 * 3600)),
            };
            if let Some(u) = &self.username {
                b = b.username(u);
            }
            if let Some(p) = &self.password {
                b = b.password(p);
            }
            if tls {
                b = b.tls(if self.tls_options.insecure {
                    redis::TlsMode::Insecure
                } else {
                    redis::TlsMode::Secure
                });
            }
            if let Some(c) = &certs {
                b = b.certs(c.clone());
            }
            b.build()
                .map_err(|e| Error::validation("redis.cluster", e.to_string()))
        };
        Ok(Connector::Cluster {
            // few tries inside the crate: a request held there for a shard that is down
            // holds one of the connection's CLUSTER_IN_FLIGHT turns, while between
            // `SharedConnection`'s own tries it holds none, and requests for the healthy
            // shards go on
            shared: build(Some(Duration::from_secs(30)), 3)?,
            blocking: build(None, 8)?,
        })
    }

    fn sentinel_connector(
        &self,
        sentinels: &[NodeAddress],
        name: &str,
        sentinel_username: Option<&str>,
        sentinel_password: Option<&str>,
    ) -> Result<Connector> {
        if sentinels.is_empty() {
            return Err(Error::validation(
                "redis.sentinels",
                "must list at least one sentinel ({ host, port })",
            ));
        }
        if name.is_empty() {
            return Err(Error::validation(
                "redis.name",
                "the sentinels' master set name is needed (e.g. 'mymaster')",
            ));
        }
        let addrs = sentinels
            .iter()
            .map(|n| ConnectionAddr::Tcp(n.host.clone(), n.port));
        let mut b = SentinelClientBuilder::new(addrs, name, SentinelServerType::Master)
            .map_err(|e| Error::validation("redis.sentinels", e.to_string()))?;
        if let Some(db) = self.db {
            b = b.set_client_to_redis_db(db);
        }
        if let Some(u) = &self.username {
            b = b.set_client_to_redis_username(u);
        }
        if let Some(p) = &self.password {
            b = b.set_client_to_redis_password(p);
        }
        if let Some(u) = sentinel_username {
            b = b.set_client_to_sentinel_username(u);
        }
        if let Some(p) = sentinel_password {
            b = b.set_client_to_sentinel_password(p);
        }
        if self.tls_wanted() {
            b = b.set_client_to_redis_tls_mode(if self.tls_options.insecure {
                redis::TlsMode::Insecure
            } else {
                redis::TlsMode::Secure
            });
            if let Some(c) = self.tls_certificates()? {
                b = b.set_client_to_redis_certificates(c);
            }
        }
        let client = b
            .build()
            .map_err(|e| Error::validation("redis.sentinels", e.to_string()))?;
        let mut login = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
        if let Some(u) = sentinel_username {
            login = login.set_username(u);
        }
        if let Some(p) = sentinel_password {
            login = login.set_password(p);
        }
        let watch_clients = sentinels
            .iter()
            .map(|n| {
                let info = ConnectionAddr::Tcp(n.host.clone(), n.port)
                    .into_connection_info()?
                    .set_redis_settings(login.clone());
                Client::open(info)
            })
            .collect::<redis::RedisResult<Vec<_>>>()
            .map_err(|e| Error::validation("redis.sentinels", e.to_string()))?;
        Ok(Connector::Sentinel(Arc::new(SentinelSource::new(
            client,
            sentinels,
            name,
            self.db.unwrap_or(0),
            watch_clients,
        ))))
    }

    fn single_client(&self) -> Result<Client> {
        let url = self.to_url();
        let info = url
            .as_str()
            .into_connection_info()
            .map_err(|e| Error::validation("redis", e.to_string()))?;
        let settings = info.redis_settings().clone().set_skip_set_lib_name();
        let info = info.set_redis_settings(settings);
        let t = &self.tls_options;
        let material = t.ca.is_some() || t.client_cert.is_some() || t.client_key.is_some();
        if material && !url.starts_with("rediss://") {
            return Err(Error::validation(
                "redis.tls",
                "certificates need a TLS connection (a rediss:// URL)",
            ));
        }
        let Some(certs) = self.tls_certificates()? else {
            return Client::open(info).map_err(|e| Error::validation("redis", e.to_string()));
        };
        Client::build_with_tls(url, certs)
            .map_err(|e| Error::validation("redis.tls", e.to_string()))
    }
}

/// Checks that `pem` holds one or more PEM certificates (redis-rs would silently trust none).
fn check_certificates(pem: &[u8], field: &str) -> Result<()> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        cert.map_err(|e| Error::validation(field, format!("unreadable PEM certificate: {e}")))?;
        count += 1;
    }
    if count == 0 {
        return Err(Error::validation(field, "holds no PEM certificate"));
    }
    Ok(())
}

/// Checks that `pem` holds a PEM private key.
fn check_key(pem: &[u8]) -> Result<()> {
    use rustls::pki_types::{pem::PemObject, PrivateKeyDer};
    PrivateKeyDer::from_pem_slice(pem).map(|_| ()).map_err(|e| {
        Error::validation("redis.tls.key", format!("no readable PEM private key: {e}"))
    })
}

/// Percent-decodes a URL component.
fn decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::validation("redis.url", "a bad %-escape"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| Error::validation("redis.url", "a %-escape that is not UTF-8"))
}

/// Percent-encodes a URL user-info component.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the engine opens connections with, for the config's [`Topology`]. Cheap to clone.
// one per engine, cloned once per worker: the variants' sizes do not matter
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Connector {
    /// One server.
    Single(Client),
    /// A Redis Cluster: one client for the shared connection, one (without a response
    /// timeout) for blocking reads.
    Cluster {
        /// For the shared connection.
        shared: ClusterClient,
        /// For blocking connections.
        blocking: ClusterClient,
    },
    /// A master found through Sentinel.
    Sentinel(Arc<SentinelSource>),
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Single(_) => "Connector::Single",
            Self::Cluster { .. } => "Connector::Cluster",
            Self::Sentinel(_) => "Connector::Sentinel",
        })
    }
}

impl Connector {
    /// Whether this is a Redis Cluster (a queue's keys must then share one hash tag).
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster { .. })
    }
}

/// The sentinels, asked for the current master whenever a connection is (re)opened, and
/// watched for a master other than the one the engine's connections were opened to.
pub struct SentinelSource {
    resolver: tokio::sync::Mutex<Resolver>,
    /// The sentinels' addresses and the master set's name, for error messages.
    sentinels: String,
    name: String,
    /// The database the data nodes' connections select.
    db: i64,
    /// Resolutions made so far (rounds of questions to the sentinels).
    resolutions: std::sync::atomic::AtomicU64,
    /// Where the last resolution found the master; none after a move is announced.
    resolved: std::sync::Mutex<Option<(String, u16)>>,
    /// Bumped each time the sentinels name a master other than the one last resolved:
    /// connections opened before it are given up (see [`SentinelSource::watch`]).
    moved: tokio::sync::watch::Sender<u64>,
    /// A client per sentinel for the watch (logged in as the sentinels want).
    watch_clients: Vec<Client>,
    watching: std::sync::atomic::AtomicBool,
}

/// The crate's sentinel client and the last resolution: when it started, what it found.
struct Resolver {
    client: SentinelClient,
    last: Option<(Instant, redis::RedisResult<Client>)>,
}

/// How often the watch asks a sentinel which master it names.
const WATCH_EVERY: Duration = Duration::from_millis(500);

impl SentinelSource {
    fn new(
        client: SentinelClient,
        sentinels: &[NodeAddress],
        name: &str,
        db: i64,
        watch_clients: Vec<Client>,
    ) -> Self {
        Self {
            resolver: tokio::sync::Mutex::new(Resolver { client, last: None }),
            sentinels: sentinels
                .iter()
                .map(|n| format!("{}:{}", n.host, n.port))
                .collect::<Vec<_>>()
                .join(", "),
            name: name.to_owned(),
            db,
            resolutions: Default::default(),
            resolved: Default::default(),
            moved: tokio::sync::watch::Sender::new(0),
            watch_clients,
            watching: Default::default(),
        }
    }

    /// A client for the master the sentinels name, as found by a resolution that started
    /// at or after `since` (when the caller saw its connection fail, or asked): however many
    /// callers saw the same failure, the sentinels are asked once, and each caller gets that
    /// answer, master or error. The crate asks the sentinels in order (a sentinel that is
    /// down or does not answer is skipped) and checks with `ROLE` that the node they name
    /// is a master.
    async fn master(&self, since: Instant) -> redis::RedisResult<Client> {
        let mut r = self.resolver.lock().await;
        if let Some((at, found)) = &r.last {
            if *at >= since {
                return found.clone();
            }
        }
        let started = Instant::now();
        self.resolutions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = r
            .client
            .async_get_client()
            .await
            .map_err(|e| self.explain(e));
        if let Ok(client) = &found {
            if let Some(addr) = tcp_addr(client.get_connection_info().addr()) {
                *self.resolved.lock().expect("resolved lock") = Some(addr);
            }
        }
        r.last = Some((started, found.clone()));
        found
    }

    /// How many times the sentinels were asked for the master (for tests and diagnostics).
    pub fn resolutions(&self) -> u64 {
        self.resolutions.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The number of master moves seen so far (see [`SentinelSource::watch`]).
    fn epoch(&self) -> u64 {
        *self.moved.borrow()
    }

    /// Starts, once, the task that asks a sentinel every [`WATCH_EVERY`] which master it
    /// names, and announces a move when that is not the master last resolved.
    ///
    /// A failover does not always reach the engine as a failed command: a master cut off by
    /// the network, or frozen, answers nothing (no reset, and blocking reads have no
    /// response timeout), and a master demoted by `SENTINEL FAILOVER` keeps serving its
    /// clients, writes included, until the sentinels reconfigure it, seconds later. The
    /// watch gives such connections up within about [`WATCH_EVERY`] of the sentinels' switch:
    /// the shared connection is replaced before its next command, and blocking reads stop
    /// and reconnect. The task ends with the engine (it holds the source weakly).
    fn watch(self: &Arc<Self>) {
        if self.watch_clients.is_empty()
            || self
                .watching
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let source = Arc::downgrade(self);
        let clients = self.watch_clients.clone();
        let name = self.name.clone();
        tokio::spawn(async move {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(1)))
                .set_response_timeout(Some(Duration::from_secs(1)));
            let mut con: Option<MultiplexedConnection> = None;
            let mut next = 0;
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                let Some(source) = source.upgrade() else {
                    return;
                };
                let asked = async {
                    if con.is_none() {
                        con = Some(
                            clients[next]
                                .get_multiplexed_async_connection_with_config(&config)
                                .await?,
                        );
                    }
                    let c = con.as_mut().expect("a sentinel connection");
                    redis::cmd("SENTINEL")
                        .arg("GET-MASTER-ADDR-BY-NAME")
                        .arg(&name)
                        .query_async::<Option<(String, u16)>>(c)
                        .await
                }
                .await;
                match asked {
                    Ok(Some(named)) => source.named(named),
                    Ok(None) => {}
                    Err(e) => {
                        // that sentinel is down or does not answer: the next one next time
                        tracing::debug!(error = %e, "sentinel watch: no answer");
                        con = None;
                        next = (next + 1) % clients.len();
                    }
                }
            }
        });
    }

    /// What the watch heard: a master other than the last resolved one is a move.
    fn named(&self, named: (String, u16)) {
        let mut resolved = self.resolved.lock().expect("resolved lock");
        if resolved.as_ref().is_some_and(|r| *r != named) {
            tracing::info!(
                master = %format!("{}:{}", named.0, named.1),
                "sentinel: the sentinels name another master; reconnecting"
            );
            *resolved = None;
            self.moved.send_modify(|n| *n += 1);
        }
    }

    /// A resolution error that says which sentinels and which name it was about.
    fn explain(&self, e: redis::RedisError) -> redis::RedisError {
        if e.kind() != redis::ErrorKind::MasterNameNotFoundBySentinel {
            return e;
        }
        redis::RedisError::from((
            redis::ErrorKind::MasterNameNotFoundBySentinel,
            "no master found through the sentinels",
            format!(
                "none of the sentinels at {} names a reachable master '{}' (a name they do \
                 not monitor, or a master down with no replica promoted yet)",
                self.sentinels, self.name
            ),
        ))
    }
}

/// Host and port of a TCP address.
fn tcp_addr(addr: &ConnectionAddr) -> Option<(String, u16)> {
    match addr {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            Some((host.clone(), *port))
        }
        _ => None,
    }
}

/// The shared connection: reconnects by itself, and retries a command while the connection
/// is down as `retry` says. Cheap to clone; clones share the one connection.
#[derive(Clone)]
pub struct SharedConnection {
    inner: SharedInner,
    retry: RetryPolicy,
}

#[derive(Clone)]
enum SharedInner {
    Single(ConnectionManager),
    Cluster(ClusterConnection, Arc<tokio::sync::Semaphore>),
    Sentinel(Arc<SentinelShared>),
}

/// Requests in flight at once on one cluster connection (the rest wait their turn here).
///
/// The `redis` crate's cluster connection serves every request from one task, and refreshes
/// its slot map (after a `MOVED`, a refused connection...) with its routing lock held for
/// writing, polling nothing else meanwhile. A request of that task that took the lock for
/// reading but was then told by tokio's cooperative budget to yield keeps its read permit
/// without being polled again, and the refresh waits for it forever: every later command of
/// the connection hangs (seen in failovers under load, with a few hundred requests in
/// flight). The task spends its budget (128 operations per poll) on each request it takes
/// in, routes and answers, a few units each; with at most this many requests in flight a
/// poll cannot run out of it.
const CLUSTER_IN_FLIGHT: usize = 16;

/// The connection to the master the sentinels named, replaced when it fails or when the
/// sentinels name another master.
///
/// The replacement is made by a task of its own, never inside a command's future: commands
/// only wait (on a watch channel) for its outcome. A command's future may sit unpolled for a
/// while (the worker polls its second round trip once, then only after the first), and a
/// fair lock handed to such a future would stall every other command behind it.
struct SentinelShared {
    source: Arc<SentinelSource>,
    state: tokio::sync::watch::Sender<Current>,
    /// Whether the replacing task runs.
    replacing: std::sync::atomic::AtomicBool,
    /// Pause between the task's attempts while no master can be reached.
    retry_delay: Duration,
}

#[derive(Clone)]
struct Current {
    /// Bumped at each replacement.
    generation: u64,
    /// None once it failed: no command is sent on a connection known to be broken.
    con: Option<MultiplexedConnection>,
    /// The source's move counter when the connection was opened.
    epoch: u64,
    /// When the connection was given up (none while it is good).
    lost_at: Option<Instant>,
    /// The last failed attempt at a new connection: when it started, and why it failed.
    failure: Option<(Instant, redis::RedisError)>,
}

impl SentinelShared {
    /// The current state and its connection, if that is still good: not failed, and
    /// opened to the master the sentinels name.
    fn usable(self: &Arc<Self>) -> (Current, Option<MultiplexedConnection>) {
        let mut c = self.state.borrow().clone();
        let mut con = c.con.take();
        if con.is_some() && c.epoch != self.source.epoch() {
            self.forget(c.generation);
            con = None;
        }
        (c, con)
    }

    /// Gives up generation `seen`'s connection, which failed (dropped, or its server is no
    /// longer the master), and has the task open one to the master the sentinels name.
    fn forget(self: &Arc<Self>, seen: u64) {
        let given_up = self.state.send_if_modified(|c| {
            if c.generation != seen || c.con.is_none() {
                return false;
            }
            c.con = None;
            c.lost_at = Some(Instant::now());
            true
        });
        if given_up {
            tracing::info!("sentinel: connection to the master given up; asking the sentinels");
        }
        self.replace();
    }

    /// Starts the replacing task unless it runs (or the connection is good).
    fn replace(self: &Arc<Self>) {
        if self.state.borrow().con.is_some()
            || self
                .replacing
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let shared = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(s) = shared.upgrade() else {
                    return;
                };
                let started = Instant::now();
                let epoch = s.source.epoch();
                let opened = async {
                    let client = s.source.master(started).await?;
                    client
                        .get_multiplexed_async_connection_with_config(&shared_config())
                        .await
                }
                .await;
                match opened {
                    Ok(con) => {
                        s.state.send_modify(|c| {
                            *c = Current {
                                generation: c.generation + 1,
                                con: Some(con),
                                epoch,
                                lost_at: None,
                                failure: None,
                            };
                        });
                        tracing::info!(
                            generation = s.state.borrow().generation,
                            "sentinel: connected to the current master"
                        );
                        s.replacing
                            .store(false, std::sync::atomic::Ordering::SeqCst);
                        // given up again meanwhile (or a move announced): start over
                        s.usable();
                        if s.state.borrow().con.is_none() {
                            s.replace();
                        }
                        return;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "sentinel: no master to connect to yet");
                        s.state.send_modify(|c| c.failure = Some((started, e)));
                        let delay = s.retry_delay.max(Duration::from_millis(10));
                        drop(s);
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        });
    }

    /// The connection to send on: the current one, or, after a failure, the one the task
    /// opens to the master the sentinels name now. While it finds none, the caller gets
    /// the error of the first attempt that started after it last failed (`failed_at`; for a
    /// first try, after the connection was lost): however many commands wait, the sentinels
    /// are asked once per attempt, about once per retry delay.
    async fn connection(
        self: &Arc<Self>,
        failed_at: Option<Instant>,
    ) -> redis::RedisResult<(Current, MultiplexedConnection)> {
        let (c, con) = self.usable();
        if let Some(con) = con {
            return Ok((c, con));
        }
        self.replace();
        let since = failed_at.or(c.lost_at).unwrap_or_else(Instant::now);
        let mut rx = self.state.subscribe();
        let c = rx
            .wait_for(|c| c.con.is_some() || c.failure.as_ref().is_some_and(|(at, _)| *at >= since))
            .await
            .map_err(|_| {
                redis::RedisError::from((redis::ErrorKind::Client, "the engine is closed"))
            })?
            .clone();
        match (&c.con, &c.failure) {
            (Some(con), _) => Ok((c.clone(), con.clone())),
            (None, Some((_, e))) => Err(e.clone()),
            (None, None) => unreachable!("waited for one or the other"),
        }
    }
}

fn shared_config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(30)))
}

impl std::fmt::Debug for SharedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedConnection")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Whether the error says the connection is down (refused, reset, closed), not that Redis
/// answered with an error or was too slow to answer.
fn connection_down(e: &redis::RedisError) -> bool {
    e.is_connection_refusal() || e.is_connection_dropped()
}

/// Whether, in a cluster or behind sentinels, the error is a failover or resharding in
/// progress that a later try rides out: the cluster is down until a replica is promoted,
/// a multi-key command met a slot half migrated (TRYAGAIN, or the ASK / MOVED redirections
/// the crate still got after its own retries), or a demoted master refused a write. In each
/// case the server ran nothing, so sending the command again is safe.
fn failover_in_progress(e: &redis::RedisError) -> bool {
    matches!(
        e.kind(),
        redis::ErrorKind::Server(
            ServerErrorKind::ClusterDown
                | ServerErrorKind::TryAgain
                | ServerErrorKind::Ask
                | ServerErrorKind::Moved
                | ServerErrorKind::ReadOnly
                | ServerErrorKind::MasterDown
        )
    )
}

/// Why a cluster turned a transaction (MULTI/EXEC: the engine's consistent reads) away. The
/// crate follows MOVED and ASK for single commands and plain pipelines, not inside a
/// transaction, whose EXEC then fails with EXECABORT carrying the redirection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransactionRedirect {
    /// The slot has a new owner (a resharding or a failover finished).
    Moved,
    /// The slot is being migrated (ASK, TRYAGAIN): the transaction runs once it is over.
    Migrating,
}

fn transaction_redirect(e: &redis::RedisError) -> Option<TransactionRedirect> {
    if e.kind() != redis::ErrorKind::Server(ServerErrorKind::ExecAbort) {
        return None;
    }
    let errors = e.clone().into_server_errors()?;
    let kinds: Vec<Option<ServerErrorKind>> = errors.iter().map(|(_, e)| e.kind()).collect();
    if kinds.contains(&Some(ServerErrorKind::Moved)) {
        Some(TransactionRedirect::Moved)
    } else if kinds.iter().any(|k| {
        matches!(
            k,
            Some(ServerErrorKind::Ask | ServerErrorKind::TryAgain | ServerErrorKind::ClusterDown)
        )
    }) {
        Some(TransactionRedirect::Migrating)
    } else {
        None
    }
}

/// The first key a pipeline names (the first argument of its first command that has one).
fn first_key(pipeline: &Pipeline) -> Option<Vec<u8>> {
    pipeline
        .cmd_iter()
        .find_map(|cmd| match cmd.args_iter().nth(1)? {
            redis::Arg::Simple(key) => Some(key.to_vec()),
            _ => None,
        })
}

/// The wait before retry `n` of a transaction turned away by a migration: doubling from the
/// policy's delay, at most 1 s, so a migration of several seconds is ridden out within the
/// retries allowed.
fn migration_backoff(policy: RetryPolicy, n: u32) -> Duration {
    let doubled = policy.delay.saturating_mul(1 << n.min(4));
    doubled.min(Duration::from_secs(1)).max(policy.delay)
}

/// Whether, on a cluster, the error says the client's map of the slots is behind the
/// cluster's: a redirection the crate stopped following (its retries spent while nodes
/// disagree during a failover), or no connection to the slot's node yet. The command was
/// not run; a later try, on a refreshed map, reaches the slot's owner.
fn topology_in_flux(e: &redis::RedisError) -> bool {
    matches!(
        e.kind(),
        redis::ErrorKind::Server(ServerErrorKind::Moved | ServerErrorKind::Ask)
            | redis::ErrorKind::ClusterConnectionNotFound
    )
}

/// A pipeline's replies as an error when one of them says the server is no longer the
/// master (`READONLY`, `MASTERDOWN`): behind sentinels, the pipeline is then sent again,
/// whole, to the master they name now. Anything else as it is.
fn failover_reply(value: Value) -> redis::RedisResult<Value> {
    if let Value::Array(replies) = &value {
        for reply in replies {
            if let Value::ServerError(e) = reply {
                if matches!(
                    e.kind(),
                    Some(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
                ) {
                    return Err(e.clone().into());
                }
            }
        }
    }
    Ok(value)
}

/// One request on the shared connection: a command, or part of a pipeline.
#[derive(Clone, Copy)]
enum Request<'a> {
    Cmd(&'a Cmd),
    Pipe(&'a Pipeline, usize, usize),
    Routed(&'a Cmd, &'a Option<RoutingInfo>),
}

async fn send_on<C: ConnectionLike>(con: &mut C, req: Request<'_>) -> redis::RedisResult<Value> {
    match req {
        Request::Cmd(cmd) | Request::Routed(cmd, _) => con.req_packed_command(cmd).await,
        Request::Pipe(p, offset, count) => con
            .req_packed_commands(p, offset, count)
            .await
            .map(Value::Array),
    }
}

impl SharedConnection {
    /// Sends `req` until it succeeds, fails for a reason other than a connection that is
    /// down (or, off a single server, a failover in progress), or the retries allowed are
    /// spent. A pipeline is always sent whole: a retry resends every command of it, on one
    /// connection.
    async fn send(&self, req: Request<'_>) -> redis::RedisResult<Value> {
        let mut retries = 0;
        // when the last try failed: behind sentinels, any answer they gave since will do
        let mut failed_at: Option<Instant> = None;
        loop {
            let (result, reconnecting) = match &self.inner {
                SharedInner::Single(con) => (send_on(&mut con.clone(), req).await, false),
                SharedInner::Cluster(con, gate) => {
                    let _turn = gate.acquire().await.expect("the gate is never closed");
                    let mut con = con.clone();
                    let r = match req {
                        Request::Routed(cmd, Some(route)) => {
                            con.route_command(cmd.clone(), route.clone()).await
                        }
                        _ => send_on(&mut con, req).await,
                    };
                    if let (Err(e), Request::Pipe(pipeline, ..)) = (&r, req) {
                        let redirect = transaction_redirect(e);
                        if redirect.is_some() && self.retry.allows(retries) {
                            retries += 1;
                            tracing::debug!(error = %e, retries, "transaction redirected; retrying");
                            match redirect {
                                // a command on the transaction's first key meets the same
                                // MOVED, which the crate follows, refreshing its slot map
                                Some(TransactionRedirect::Moved) => {
                                    if let Some(key) = first_key(pipeline) {
                                        let _ = redis::cmd("EXISTS")
                                            .arg(key)
                                            .query_async::<Value>(&mut con)
                                            .await;
                                    }
                                }
                                _ => {
                                    tokio::time::sleep(migration_backoff(self.retry, retries)).await
                                }
                            }
                            continue;
                        }
                    }
                    (r, false)
                }
                SharedInner::Sentinel(s) => match s.connection(failed_at).await {
                    Ok((current, mut con)) => {
                        let generation = current.generation;
                        // a move of the master announced meanwhile cuts the command off, to
                        // be sent again to the new master (as when the connection drops)
                        let mut moved = s.source.moved.subscribe();
                        let r = tokio::select! {
                            r = send_on(&mut con, req) => r.and_then(failover_reply),
                            _ = moved.wait_for(|epoch| *epoch != current.epoch) => Err(
                                std::io::Error::new(
                                    std::io::ErrorKind::ConnectionAborted,
                                    "the sentinels name another master",
                                )
                                .into(),
                            ),
                        };
                        if let Err(e) = &r {
                            // a connection that dropped, or whose server stopped being the
                            // master, is not used again; nor one that stopped answering
                            // (a master cut off by the network, or frozen): the next
                            // command asks the sentinels (this one, which may have run,
                            // fails with its timeout as off Sentinel)
                            if connection_down(e) || failover_in_progress(e) || e.is_timeout() {
                                s.forget(generation);
                            }
                        }
                        (r, false)
                    }
                    // no master to connect to yet (the sentinels still name the one that
                    // failed, or none): as a connection that is down
                    Err(e) => (Err(e), true),
                },
            };
            match result {
                Err(e)
                    if (reconnecting
                        || connection_down(&e)
                        || (!matches!(self.inner, SharedInner::Single(_))
                            && failover_in_progress(&e))
                        || (matches!(self.inner, SharedInner::Cluster(..))
                            && topology_in_flux(&e)))
                        && self.retry.allows(retries) =>
                {
                    retries += 1;
                    failed_at = Some(Instant::now());
                    tracing::debug!(error = %e, retries, "connection down; retrying the command");
                    // behind sentinels, waiting for the next attempt at a connection is the
                    // pause (the task makes one per retry delay)
                    if !reconnecting {
                        tokio::time::sleep(self.retry.delay).await;
                    }
                }
                result => return result,
            }
        }
    }

    /// Whether this is a connection to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner, SharedInner::Cluster(..))
    }

    /// A handle on this connection that sends every command to the server holding `key`
    /// (for commands without keys that are about one queue, such as `CLIENT LIST` or a
    /// `SCAN` of the queue's keys). The same connection off a cluster.
    ///
    /// On a cluster, each command is preceded by an `EXISTS key`: a keyless command goes
    /// wherever the client's slot map says, and a map that missed a resharding would send it
    /// to the slot's former owner, which answers without a redirection (no workers, no keys);
    /// a command on the key meets the `MOVED` instead, which refreshes the map.
    pub fn at_key(&self, key: &str) -> RoutedConnection {
        let cluster = matches!(self.inner, SharedInner::Cluster(..));
        let route = cluster.then(|| {
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::with_key(
                key.as_bytes(),
                SlotAddr::Master,
            )))
        });
        RoutedConnection {
            con: self.clone(),
            route,
            key: cluster.then(|| key.to_owned()),
        }
    }

    /// One handle per master, each sending every command to that master (for a `SCAN` over
    /// the whole keyspace): the masters of a cluster, or this connection once otherwise.
    pub async fn masters(&self) -> Result<Vec<RoutedConnection>> {
        let SharedInner::Cluster(..) = &self.inner else {
            return Ok(vec![RoutedConnection {
                con: self.clone(),
                route: None,
                key: None,
            }]);
        };
        // CLUSTER SHARDS (Redis 7): each shard's master, by the cluster's own word
        let shards: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SHARDS")
            .query_async(&mut self.clone())
            .await?;
        let mut out = Vec::new();
        for shard in shards {
            let Some(nodes) = map_field(&shard, "nodes") else {
                continue;
            };
            let redis::Value::Array(nodes) = nodes else {
                continue;
            };
            for node in nodes {
                let role = map_field(node, "role").and_then(text);
                let health = map_field(node, "health").and_then(text);
                if role.as_deref() != Some("master") || health.as_deref() != Some("online") {
                    continue;
                }
                let host = map_field(node, "ip")
                    .and_then(text)
                    .or_else(|| map_field(node, "endpoint").and_then(text));
                let port = map_field(node, "port")
                    .or_else(|| map_field(node, "tls-port"))
                    .and_then(|v| redis::from_redis_value::<u16>(v.clone()).ok());
                if let (Some(host), Some(port)) = (host, port) {
                    out.push(RoutedConnection {
                        con: self.clone(),
                        key: None,
                        route: Some(RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                            host,
                            port,
                        })),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// A field of a RESP2 flat map (`[k1, v1, k2, v2, ...]`) or a RESP3 map.
fn map_field<'v>(v: &'v redis::Value, name: &str) -> Option<&'v redis::Value> {
    match v {
        redis::Value::Array(items) => items
            .chunks(2)
            .find(|kv| kv.len() == 2 && text(&kv[0]).as_deref() == Some(name))
            .map(|kv| &kv[1]),
        redis::Value::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| text(k).as_deref() == Some(name))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn text(v: &redis::Value) -> Option<String> {
    redis::from_redis_value::<String>(v.clone()).ok()
}

impl ConnectionLike for SharedConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(self.send(Request::Cmd(cmd)))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            match self.send(Request::Pipe(pipeline, offset, count)).await? {
                Value::Array(values) => Ok(values),
                other => Ok(vec![other]),
            }
        })
    }

    fn get_db(&self) -> i64 {
        match &self.inner {
            SharedInner::Single(con) => con.get_db(),
            SharedInner::Cluster(..) => 0,
            SharedInner::Sentinel(s) => s.source.db,
        }
    }
}

/// The shared connection, sending every command to one server of a cluster (see
/// [`SharedConnection::at_key`] and [`SharedConnection::masters`]).
#[derive(Clone)]
pub struct RoutedConnection {
    con: SharedConnection,
    route: Option<RoutingInfo>,
    /// The key whose slot `route` names, checked before each command (see
    /// [`SharedConnection::at_key`]).
    key: Option<String>,
}

impl ConnectionLike for RoutedConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            if let Some(key) = &self.key {
                let mut exists = redis::cmd("EXISTS");
                exists.arg(key);
                self.con.send(Request::Cmd(&exists)).await?;
            }
            self.con.send(Request::Routed(cmd, &self.route)).await
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.con.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.con.get_db()
    }
}

/// Opens the shared connection. The first connection is tried once, so a wrong address or
/// a Redis that is down fails at once; after that the connection reconnects by itself, one
/// attempt per retry of a waiting command (see [`RetryPolicy`]).
pub async fn shared(connector: &Connector, retry: RetryPolicy) -> Result<SharedConnection> {
    let inner = match connector {
        Connector::Single(client) => {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(5)))
                .set_response_timeout(Some(Duration::from_secs(30)))
                .set_number_of_retries(0);
            SharedInner::Single(ConnectionManager::new_with_config(client.clone(), config).await?)
        }
        Connector::Cluster { shared, .. } => SharedInner::Cluster(
            shared.get_async_connection().await?,
            Arc::new(tokio::sync::Semaphore::new(CLUSTER_IN_FLIGHT)),
        ),
        Connector::Sentinel(source) => {
            let client = source.master(Instant::now()).await?;
            let con = client
                .get_multiplexed_async_connection_with_config(&shared_config())
                .await?;
            let epoch = source.epoch();
            source.watch();
            SharedInner::Sentinel(Arc::new(SentinelShared {
                source: source.clone(),
                state: tokio::sync::watch::Sender::new(Current {
                    generation: 0,
                    con: Some(con),
                    epoch,
                    lost_at: None,
                    failure: None,
                }),
                replacing: Default::default(),
                retry_delay: retry.delay,
            }))
        }
    };
    Ok(SharedConnection { inner, retry })
}

/// A connection for blocking commands (BZPOPMIN, XREAD BLOCK), dedicated to one waiter.
/// Off a cluster it is a cluster connection of its own, routed by the key it waits on.
#[derive(Clone)]
pub enum BlockingConnection {
    /// To one server.
    Plain(MultiplexedConnection),
    /// To a cluster.
    Cluster(ClusterConnection),
    /// To the master the sentinels named when it was opened; `moved` hears when they name
    /// another.
    Sentinel {
        /// The connection.
        con: MultiplexedConnection,
        /// The source's move counter, as of the connection's opening.
        moved: tokio::sync::watch::Receiver<u64>,
    },
}

impl ConnectionLike for BlockingConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Plain(c) | Self::Sentinel { con: c, .. } => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Plain(c) | Self::Sentinel { con: c, .. } => {
                c.req_packed_commands(pipeline, offset, count)
            }
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Plain(c) | Self::Sentinel { con: c, .. } => c.get_db(),
            Self::Cluster(_) => 0,
        }
    }
}

impl BlockingConnection {
    /// Resolves when the sentinels have named a master other than the one this connection
    /// was opened to (never off Sentinel): a blocking read on it should stop and reconnect.
    pub fn moved(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let moved = match self {
            Self::Sentinel { moved, .. } => Some(moved.clone()),
            _ => None,
        };
        async move {
            match moved {
                Some(mut rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await
                    }
                }
                None => std::future::pending().await,
            }
        }
    }

    /// This connection's Redis client id on the server holding `key` (Redis gives each
    /// connection an id per server).
    pub async fn client_id(&mut self, key: &str) -> redis::RedisResult<u64> {
        let mut cmd = redis::cmd("CLIENT");
        cmd.arg("ID");
        match self {
            Self::Plain(c) | Self::Sentinel { con: c, .. } => cmd.query_async(c).await,
            Self::Cluster(c) => {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::with_key(key.as_bytes(), SlotAddr::Master),
                ));
                Ok(redis::from_redis_value(c.route_command(cmd, route).await?)?)
            }
        }
    }
}

/// The longest pause between a blocking reader's attempts at reconnecting (they start at
/// 50 ms and double): short enough that a worker waiting on its marker, or a `QueueEvents`,
/// is back within about this long once a failover is over.
pub const BLOCKING_RECONNECT_MAX: Duration = Duration::from_millis(500);

/// How long past its own timeout a blocking read (BZPOPMIN, XREAD BLOCK) may go unanswered
/// before its connection is given up for a new one: a server that stopped answering (frozen,
/// cut off by the network, or a demoted master the sentinels have not reconfigured yet)
/// would otherwise hold the waiter forever, since blocking connections have no response
/// timeout of their own.
pub const BLOCKING_GRACE: Duration = Duration::from_secs(2);

/// Runs the blocking read `read` on a connection whose [`BlockingConnection::moved`] is
/// `moved`; the read asks Redis to wait `wait` at most. It is given [`BLOCKING_GRACE`]
/// more: no answer by then is a timeout error, and a move of the master (behind sentinels)
/// meanwhile an aborted-connection error. Either way, give the connection up.
pub async fn blocking_read<T>(
    wait: Duration,
    moved: impl std::future::Future<Output = ()>,
    read: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    tokio::select! {
        result = tokio::time::timeout(wait + BLOCKING_GRACE, read) => match result {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "no answer to a blocking read within {} ms of its timeout",
                    BLOCKING_GRACE.as_millis()
                ),
            )
            .into()),
        },
        () = moved => Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "the sentinels name another master",
        )
        .into()),
    }
}

/// A connection for blocking commands: no response timeout (redis-rs would otherwise cut a
/// BZPOPMIN after 500 ms), and named so BullMQ's `getWorkers` can see the worker (on every
/// node of a cluster).
pub async fn blocking(connector: &Connector, name: &str) -> Result<BlockingConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(None);
    let mut con = match connector {
        Connector::Single(client) => BlockingConnection::Plain(
            client
                .get_multiplexed_async_connection_with_config(&config)
                .await?,
        ),
        Connector::Cluster { blocking, .. } => {
            BlockingConnection::Cluster(blocking.get_async_connection().await?)
        }
        Connector::Sentinel(source) => {
            let mut moved = source.moved.subscribe();
            moved.mark_unchanged();
            let con = source
                .master(Instant::now())
                .await?
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            source.watch();
            BlockingConnection::Sentinel { con, moved }
        }
    };
    redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(name)
        .query_async::<()>(&mut con)
        .await?;
    Ok(con)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls_from_fields() {
        let c = RedisConfig {
            host: Some("h".into()),
            port: Some(7000),
            password: Some("p@ss word".into()),
            db: Some(2),
            ..Default::default()
        };
        assert_eq!(c.to_url(), "redis://:p%40ss%20word@h:7000/2");
        assert_eq!(RedisConfig::default().to_url(), "redis://127.0.0.1:6379/0");
    }

    #[test]
    fn tls_options_turn_tls_on_and_insecure_adds_the_fragment() {
        let ca = RedisConfig {
            tls_options: TlsOptions {
                ca: Some(b"x".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(ca.to_url(), "rediss://127.0.0.1:6379/0");
        let insecure = RedisConfig {
            url: Some("rediss://h:1/0".into()),
            tls_options: TlsOptions {
                insecure: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(insecure.to_url(), "rediss://h:1/0#insecure");
        assert!(
            !format!("{:?}", ca.tls_options).contains('x'),
            "no certificate bytes in Debug"
        );
    }

    #[test]
    fn bad_tls_material_is_a_validation_error_before_connecting() {
        let half = RedisConfig {
            tls_options: TlsOptions {
                client_cert: Some(b"-----BEGIN CERTIFICATE-----".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = half.client().unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Validation, "{e}");
        let plain = RedisConfig {
            url: Some("redis://127.0.0.1:6379".into()),
            tls_options: TlsOptions {
                ca: Some(b"x".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(plain
            .client()
            .unwrap_err()
            .to_string()
            .contains("rediss://"));
        let garbage = RedisConfig {
            tls_options: TlsOptions {
                ca: Some(b"not a certificate".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            garbage.client().unwrap_err().code(),
            crate::ErrorCode::Validation
        );
    }

    #[test]
    fn topology_urls_name_clusters_and_sentinels() {
        let url = |u: &str| RedisConfig {
            url: Some(u.into()),
            ..Default::default()
        };
        let c = url("redis+cluster://:p%40ss@127.0.0.1:7000,h2:7001")
            .from_topology_url()
            .unwrap()
            .unwrap();
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert_eq!(
            c.topology,
            Topology::Cluster {
                nodes: vec![
                    NodeAddress {
                        host: "127.0.0.1".into(),
                        port: 7000
                    },
                    NodeAddress {
                        host: "h2".into(),
                        port: 7001
                    },
                ]
            }
        );
        let s = url("rediss+sentinel://u:pw@s1:26379,s2:26380/mymaster/2?sentinelPassword=sp")
            .from_topology_url()
            .unwrap()
            .unwrap();
        assert!(s.tls);
        assert_eq!(
            (s.username.as_deref(), s.password.as_deref(), s.db),
            (Some("u"), Some("pw"), Some(2))
        );
        match s.topology {
            Topology::Sentinel {
                sentinels,
                name,
                sentinel_password,
                ..
            } => {
                assert_eq!((sentinels.len(), name.as_str()), (2, "mymaster"));
                assert_eq!(sentinel_password.as_deref(), Some("sp"));
            }
            other => panic!("{other:?}"),
        }
        assert!(url("redis://h:1/0").from_topology_url().unwrap().is_none());
        for bad in [
            "redis+sentinel://s1:26379",
            "redis+sentinel://s1/m",
            "redis+cluster://h:99999",
            "redis+cluster://h:1/0",
            "redis+sentinel://s:1/m?what=1",
        ] {
            let e = url(bad).from_topology_url().unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Validation, "{bad}");
        }
        let e = RedisConfig {
            topology: Topology::Cluster { nodes: vec![] },
            ..Default::default()
        };
        assert_eq!(
            e.connector().unwrap_err().code(),
            crate::ErrorCode::Validation
        );
    }

    #[test]
    fn a_transaction_turned_away_by_a_cluster_is_told_apart() {
        use redis::{ErrorKind, RedisError};
        let plain = RedisError::from((ErrorKind::Server(ServerErrorKind::Moved), "moved"));
        assert_eq!(transaction_redirect(&plain), None, "not a transaction");
        let mut p = redis::pipe();
        p.atomic()
            .cmd("LLEN")
            .arg("{q}:wait")
            .cmd("ZCARD")
            .arg("{q}:delayed");
        assert_eq!(first_key(&p).as_deref(), Some(&b"{q}:wait"[..]));
        let mut none = redis::pipe();
        none.cmd("PING");
        assert_eq!(first_key(&none), None);
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (1..=6)
            .map(|n| migration_backoff(policy, n).as_millis() as u64)
            .collect();
        assert_eq!(waits, [200, 400, 800, 1000, 1000, 1000]);
    }

    #[test]
    fn retry_policy_counts_retries_or_waits_forever() {
        let p = RetryPolicy::default();
        assert_eq!(
            (p.max_retries, p.delay),
            (Some(20), Duration::from_millis(100))
        );
        assert!(p.allows(19) && !p.allows(20));
        let none = RetryPolicy {
            max_retries: Some(0),
            ..p
        };
        assert!(!none.allows(0), "0: fail at the first connection error");
        let forever = RetryPolicy {
            max_retries: None,
            ..p
        };
        assert!(forever.allows(u32::MAX));
    }
}

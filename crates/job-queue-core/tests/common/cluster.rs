//! A real Redis Cluster for the tests: redis-server processes with `--cluster-enabled yes` on
//! free loopback ports, each in its own temp dir, joined with `redis-cli --cluster create`.
//!
//! [`shared`] hands every test of a binary the same cluster while any test holds it; the
//! last holder's drop (a test ending, passing or panicking) kills the servers by pid and
//! removes their dirs. A watchdog process does the same if the test process dies without
//! dropping it (killed, or `std::process::exit` with a cluster still held).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use job_queue_core::{Engine, NodeAddress, RedisConfig, Topology};

/// Masters of the cluster [`shared`] starts.
pub const MASTERS: usize = 3;
/// Replicas per master.
pub const REPLICAS: usize = 1;

/// A running cluster.
pub struct Cluster {
    servers: Vec<Server>,
    watchdog: Option<Child>,
}

struct Server {
    port: u16,
    child: Child,
    dir: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for s in &mut self.servers {
            let _ = s.child.kill();
            let _ = s.child.wait();
            let _ = std::fs::remove_dir_all(&s.dir);
        }
        if let Some(w) = &mut self.watchdog {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());

/// The cluster of this test binary: the one another test holds, or a new one.
pub fn shared() -> Arc<Cluster> {
    let mut slot = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = slot.upgrade() {
        return c;
    }
    let c = Arc::new(Cluster::start(MASTERS, REPLICAS));
    *slot = Arc::downgrade(&c);
    c
}

/// A loopback port nothing listens on, whose cluster bus port (+10000) is free too.
fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if port > 55_000 {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A synchronous connection to one node.
pub fn node(port: u16) -> redis::Connection {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    client
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap()
}

fn try_node(port: u16) -> Option<redis::Connection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    client
        .get_connection_with_timeout(Duration::from_secs(2))
        .ok()
}

/// One line of CLUSTER NODES.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub id: String,
    pub port: u16,
    pub master: bool,
    /// Slot ranges it serves (masters), inclusive.
    pub slots: Vec<(u16, u16)>,
}

fn parse_nodes(text: &str) -> Vec<NodeInfo> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let addr = f[1].split('@').next().unwrap();
            let port = addr.rsplit(':').next().unwrap().parse().unwrap();
            let slots = f[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .map(|s| match s.split_once('-') {
                    Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                    None => (s.parse().unwrap(), s.parse().unwrap()),
                })
                .collect();
            NodeInfo {
                id: f[0].to_owned(),
                port,
                master: f[2].contains("master"),
                slots,
            }
        })
        .collect()
}

impl Cluster {
    /// Starts `masters` × (1 + `replicas`) servers and joins them; returns once every node
    /// says `cluster_state:ok` and sees every slot served.
    pub fn start(masters: usize, replicas: usize) -> Self {
        let n = masters * (1 + replicas);
        let mut cluster = Cluster {
            servers: Vec::new(),
            watchdog: None,
        };
        let mut ports = Vec::new();
        while ports.len() < n {
            let p = free_port();
            if !ports.contains(&p) {
                ports.push(p);
            }
        }
        for &port in &ports {
            let dir = std::env::temp_dir().join(format!(
                "jq-cluster-{}-{port}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .arg("--dir")
                .arg(&dir)
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--logfile", "redis.log"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", "nodes.conf"])
                .args(["--cluster-node-timeout", "5000"])
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on PATH");
            cluster.servers.push(Server { port, child, dir });
        }
        cluster.watchdog = Some(cluster.spawn_watchdog());
        for &port in &ports {
            until(
                &format!("redis-server on {port}"),
                Duration::from_secs(20),
                || {
                    let mut c = try_node(port)?;
                    redis::cmd("PING").query::<String>(&mut c).ok()
                },
            );
        }
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli on PATH");
        assert!(status.success(), "redis-cli --cluster create failed");
        cluster.wait_healthy(Duration::from_secs(30));
        until("replicas attached", Duration::from_secs(30), || {
            let nodes = cluster.nodes();
            (nodes.iter().filter(|n| !n.master).count() == masters * replicas).then_some(())
        });
        cluster
    }

    /// A process that outlives this one only to kill the servers by pid (and remove their
    /// dirs) once this process is gone without having dropped the cluster.
    fn spawn_watchdog(&self) -> Child {
        let script = "p=$0; while kill -0 \"$p\" 2>/dev/null; do sleep 1; done; \
                      for x in \"$@\"; do case $x in /*) rm -rf \"$x\";; \
                      *) kill -9 \"$x\" 2>/dev/null;; esac; done";
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg(std::process::id().to_string());
        for s in &self.servers {
            cmd.arg(s.child.id().to_string());
        }
        for s in &self.servers {
            cmd.arg(&s.dir);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh")
    }

    /// Waits until every node says `cluster_state:ok` and every slot has a master.
    pub fn wait_healthy(&self, timeout: Duration) {
        until("cluster_state:ok on every node", timeout, || {
            for s in &self.servers {
                let mut c = try_node(s.port)?;
                let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut c).ok()?;
                if !info.contains("cluster_state:ok") {
                    return None;
                }
                let nodes = parse_nodes(
                    &redis::cmd("CLUSTER")
                        .arg("NODES")
                        .query::<String>(&mut c)
                        .ok()?,
                );
                let covered: u32 = nodes
                    .iter()
                    .filter(|n| n.master)
                    .flat_map(|n| n.slots.iter())
                    .map(|(a, b)| u32::from(b - a) + 1)
                    .sum();
                if covered != 16384 {
                    return None;
                }
            }
            Some(())
        });
    }

    /// The cluster's nodes, as the first server sees them.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        let text: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query(&mut node(self.servers[0].port))
            .unwrap();
        parse_nodes(&text)
    }

    /// The masters, in the order of their first slot.
    pub fn masters(&self) -> Vec<NodeInfo> {
        let mut m: Vec<NodeInfo> = self.nodes().into_iter().filter(|n| n.master).collect();
        m.sort_by_key(|n| n.slots.first().map_or(u16::MAX, |s| s.0));
        m
    }

    /// Seed addresses for the engine.
    pub fn seeds(&self) -> Vec<NodeAddress> {
        self.servers
            .iter()
            .map(|s| NodeAddress {
                host: "127.0.0.1".into(),
                port: s.port,
            })
            .collect()
    }

    /// An engine on this cluster under `prefix`.
    pub async fn engine(&self, prefix: &str) -> Engine {
        let config = RedisConfig {
            topology: Topology::Cluster {
                nodes: self.seeds(),
            },
            ..Default::default()
        };
        Engine::connect(&config, prefix).await.unwrap()
    }

    /// The slot of `key` (CLUSTER KEYSLOT).
    pub fn slot_of(&self, key: &str) -> u16 {
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut node(self.servers[0].port))
            .unwrap()
    }

    /// The master serving `key`'s slot.
    pub fn master_of(&self, key: &str) -> NodeInfo {
        let slot = self.slot_of(key);
        self.masters()
            .into_iter()
            .find(|m| m.slots.iter().any(|&(a, b)| a <= slot && slot <= b))
            .expect("every slot served")
    }

    /// A hash tag (`{…}`, braces included) starting with `stem` whose slot master `index`
    /// (of [`masters`](Self::masters)) serves.
    pub fn tag_on(&self, stem: &str, index: usize) -> String {
        let port = self.masters()[index].port;
        (0..)
            .map(|i| format!("{{{stem}-{i}}}"))
            .find(|tag| self.master_of(tag).port == port)
            .unwrap()
    }

    /// Every key on master `port` (KEYS: the test cluster is small).
    pub fn keys_on(&self, port: u16) -> Vec<String> {
        redis::cmd("KEYS").arg("*").query(&mut node(port)).unwrap()
    }

    /// Moves `key`'s slot from its master to another with CLUSTER SETSLOT IMPORTING /
    /// MIGRATING and MIGRATE in batches of `batch` keys (what `redis-cli --cluster reshard`
    /// does), calling `between` after each batch; then assigns the slot to the new master on
    /// every node. Returns (slot, from port, to port).
    pub fn move_slot(&self, key: &str, batch: usize, mut between: impl FnMut()) -> (u16, u16, u16) {
        let m = self.begin_move(key);
        while m.migrate_batch(batch) > 0 {
            between();
        }
        self.finish_move(&m);
        (m.slot, m.from.port, m.to.port)
    }

    /// Starts moving `key`'s slot to another master: the target IMPORTING, the source
    /// MIGRATING; no key moved yet.
    pub fn begin_move(&self, key: &str) -> SlotMove {
        let slot = self.slot_of(key);
        let from = self.master_of(key);
        let to = self
            .masters()
            .into_iter()
            .find(|m| m.port != from.port)
            .unwrap();
        let m = SlotMove { slot, from, to };
        m.setslot(m.to.port, &["IMPORTING", &m.from.id]);
        m.setslot(m.from.port, &["MIGRATING", &m.to.id]);
        m
    }

    /// Ends a move: the slot assigned to the target on the target, the source and the rest.
    pub fn finish_move(&self, m: &SlotMove) {
        m.setslot(m.to.port, &["NODE", &m.to.id]);
        m.setslot(m.from.port, &["NODE", &m.to.id]);
        for n in self.nodes() {
            if n.port != m.to.port && n.port != m.from.port {
                let mut c = redis::cmd("CLUSTER");
                c.arg("SETSLOT").arg(m.slot).arg("NODE").arg(&m.to.id);
                // replicas refuse SETSLOT and learn it from their master
                let _ = c.query::<()>(&mut node(n.port));
            }
        }
    }
}

/// A slot being moved between masters ([`Cluster::begin_move`]).
pub struct SlotMove {
    pub slot: u16,
    pub from: NodeInfo,
    pub to: NodeInfo,
}

impl SlotMove {
    fn setslot(&self, port: u16, args: &[&str]) {
        let mut c = redis::cmd("CLUSTER");
        c.arg("SETSLOT").arg(self.slot).arg(args);
        c.query::<()>(&mut node(port)).unwrap();
    }

    /// MIGRATEs these keys from the source to the target.
    pub fn migrate(&self, keys: &[String]) {
        redis::cmd("MIGRATE")
            .arg("127.0.0.1")
            .arg(self.to.port)
            .arg("")
            .arg(0)
            .arg(5000)
            .arg("REPLACE")
            .arg("KEYS")
            .arg(keys)
            .query::<()>(&mut node(self.from.port))
            .unwrap();
    }

    /// Migrates up to `batch` keys still on the source; returns how many.
    pub fn migrate_batch(&self, batch: usize) -> usize {
        let keys: Vec<String> = redis::cmd("CLUSTER")
            .arg("GETKEYSINSLOT")
            .arg(self.slot)
            .arg(batch)
            .query(&mut node(self.from.port))
            .unwrap();
        if !keys.is_empty() {
            self.migrate(&keys);
        }
        keys.len()
    }
}

/// A connection for calling the scripts' typed wrappers on the cluster that runs each script
/// the wrapper asks for by SHA (EVALSHA) as its full text with a `#!lua` first line (EVAL).
/// Redis 7 checks such a script strictly: a key it touches outside the slot of its KEYS
/// fails the call ("Script attempted to access keys that do not hash to the same slot"),
/// even when the other slot is on the same node, where a script without that line is let
/// through. Notes which scripts ran without an error, and the slot of their first key.
#[derive(Clone)]
pub struct Strict {
    inner: job_queue_core::connection::SharedConnection,
    scripts: Arc<std::collections::HashMap<String, job_queue_core::scripts::RegisteredScript>>,
    ran: Arc<Mutex<std::collections::BTreeMap<&'static str, std::collections::BTreeSet<u16>>>>,
}

impl Strict {
    pub fn new(inner: job_queue_core::connection::SharedConnection) -> Self {
        let scripts = job_queue_core::scripts::registered()
            .into_iter()
            .map(|s| (s.sha.clone(), s))
            .collect();
        Self {
            inner,
            scripts: Arc::new(scripts),
            ran: Arc::default(),
        }
    }

    /// The scripts that ran without an error, each with the slots of its first key.
    pub fn ran(&self) -> std::collections::BTreeMap<&'static str, std::collections::BTreeSet<u16>> {
        self.ran.lock().unwrap().clone()
    }
}

impl redis::aio::ConnectionLike for Strict {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let args: Vec<Vec<u8>> = cmd
                .args_iter()
                .filter_map(|a| match a {
                    redis::Arg::Simple(b) => Some(b.to_vec()),
                    _ => None,
                })
                .collect();
            if !args
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case(b"EVALSHA"))
            {
                return self.inner.req_packed_command(cmd).await;
            }
            let sha = String::from_utf8_lossy(&args[1]).into_owned();
            let script = self
                .scripts
                .get(&sha)
                .unwrap_or_else(|| panic!("EVALSHA of {sha}, which is not in the registry"));
            let mut eval = redis::cmd("EVAL");
            eval.arg(format!("#!lua\n{}", script.text));
            for a in &args[2..] {
                eval.arg(a.as_slice());
            }
            let reply = self.inner.req_packed_command(&eval).await;
            if let Ok(v) = &reply {
                if !matches!(v, redis::Value::ServerError(_)) {
                    let numkeys: usize = String::from_utf8_lossy(&args[2]).parse().unwrap();
                    let slot = if numkeys > 0 {
                        slot(&args[3])
                    } else {
                        u16::MAX
                    };
                    self.ran
                        .lock()
                        .unwrap()
                        .entry(script.file)
                        .or_default()
                        .insert(slot);
                }
            }
            reply
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        self.inner.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// The slot Redis Cluster gives `key`: CRC16 (XMODEM) of its hash tag, or of the whole key.
pub fn slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    let mut crc: u16 = 0;
    for &b in hashed {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

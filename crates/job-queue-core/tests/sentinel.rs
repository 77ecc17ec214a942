//! The engine behind Redis Sentinel, on real servers this file starts on loopback (a master,
//! a replica, three sentinels; each stopped by its pid when the test ends, pass or fail):
//! many commands failing at once share one round of questions to the sentinels; a sentinel
//! that is down or frozen is skipped; replication-acknowledged adds are committed in groups
//! whose `WAIT` is never sent without the adds it confirms, also when their connection is
//! cut while `WAIT` waits; a blocked read on a master that froze moves to the promoted one.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{request, wait_for};
use job_queue_core::{
    Engine, Error, NodeAddress, RedisConfig, RetryPolicy, Topology, WaitReplicas,
};

use topology::SentinelSet;

/// Servers for these tests: redis-server and redis-sentinel processes with a temp dir each,
/// stopped (SIGCONT, then SIGKILL) by pid when dropped.
mod topology {
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    use super::common::wait_for;

    pub struct Server {
        pub port: u16,
        dir: PathBuf,
        args: Vec<String>,
        child: Option<Child>,
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    impl Server {
        fn new(args: impl Fn(u16, &str) -> Vec<String>) -> Self {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "jq-sentinel-test-{}-{port}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let args = args(port, dir.to_str().unwrap());
            Self {
                port,
                dir,
                args,
                child: None,
            }
        }

        pub fn pid(&self) -> u32 {
            self.child.as_ref().expect("running").id()
        }

        pub async fn start(&mut self) {
            let child = Command::new("redis-server")
                .args(&self.args)
                .current_dir(&self.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on PATH");
            self.child = Some(child);
            let url = format!("redis://127.0.0.1:{}", self.port);
            let up = wait_for(Duration::from_secs(20), || {
                let url = url.clone();
                async move {
                    let Ok(client) = redis::Client::open(url) else {
                        return false;
                    };
                    let Ok(mut con) = client.get_multiplexed_async_connection().await else {
                        return false;
                    };
                    redis::cmd("PING")
                        .query_async::<String>(&mut con)
                        .await
                        .is_ok_and(|p| p == "PONG")
                }
            })
            .await;
            assert!(up, "server on {} did not start", self.port);
        }

        /// SIGKILL, and waits for the process to be gone.
        pub fn kill(&mut self) {
            if let Some(mut c) = self.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }

        /// Sends `signal` (STOP, CONT) to the process by its pid.
        pub fn signal(&self, signal: &str) {
            let status = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(self.pid().to_string())
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            if self.child.is_some() {
                self.signal("CONT");
            }
            self.kill();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    pub struct SentinelSet {
        pub name: String,
        pub nodes: Vec<Server>,
        pub sentinels: Vec<Server>,
    }

    impl SentinelSet {
        /// A master, `replicas` replicas (synced), and three sentinels that see them all.
        pub async fn start(replicas: usize) -> Self {
            let name = "mymaster".to_owned();
            let node_args = |replica_of: Option<u16>| {
                move |port: u16, dir: &str| {
                    let mut a: Vec<String> = [
                        "--port",
                        &port.to_string(),
                        "--bind",
                        "127.0.0.1",
                        "--dir",
                        dir,
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--repl-diskless-sync-delay",
                        "0",
                        "--logfile",
                        "redis.log",
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                    if let Some(m) = replica_of {
                        a.extend(["--replicaof".into(), "127.0.0.1".into(), m.to_string()]);
                    }
                    a
                }
            };
            let mut master = Server::new(node_args(None));
            master.start().await;
            let mp = master.port;
            let mut nodes = vec![master];
            for _ in 0..replicas {
                let mut r = Server::new(node_args(Some(mp)));
                r.start().await;
                nodes.push(r);
            }
            let synced = wait_for(Duration::from_secs(20), || async {
                let info: String = query(mp, &["INFO", "replication"])
                    .await
                    .unwrap_or_default();
                info.lines().filter(|l| l.contains("state=online")).count() == replicas
            })
            .await;
            assert!(synced, "replicas synced");
            let mut sentinels = Vec::new();
            for _ in 0..3 {
                let name = name.clone();
                let mut s = Server::new(move |port, dir| {
                    let conf = format!("{dir}/sentinel.conf");
                    std::fs::write(
                        &conf,
                        format!(
                            "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile sentinel.log\n\
                             sentinel monitor {name} 127.0.0.1 {mp} 2\n\
                             sentinel down-after-milliseconds {name} 1000\n\
                             sentinel failover-timeout {name} 10000\n"
                        ),
                    )
                    .unwrap();
                    vec![conf, "--sentinel".into()]
                });
                s.start().await;
                sentinels.push(s);
            }
            let set = Self {
                name,
                nodes,
                sentinels,
            };
            let ready = wait_for(Duration::from_secs(30), || async {
                for s in &set.sentinels {
                    let m: Vec<String> =
                        match query(s.port, &["SENTINEL", "MASTER", &set.name]).await {
                            Ok(m) => m,
                            Err(_) => return false,
                        };
                    let f: std::collections::HashMap<_, _> = m
                        .chunks(2)
                        .map(|kv| (kv[0].clone(), kv[1].clone()))
                        .collect();
                    if f["num-slaves"].parse::<usize>().unwrap() < replicas
                        || f["num-other-sentinels"] != "2"
                    {
                        return false;
                    }
                }
                true
            })
            .await;
            assert!(ready, "sentinels discover each other");
            set
        }

        /// The port a live sentinel names as master.
        pub async fn master_port(&self) -> u16 {
            for s in &self.sentinels {
                if let Ok((_, port)) = query::<(String, u16)>(
                    s.port,
                    &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &self.name],
                )
                .await
                {
                    return port;
                }
            }
            panic!("no sentinel answers")
        }

        pub fn node(&mut self, port: u16) -> &mut Server {
            self.nodes.iter_mut().find(|n| n.port == port).unwrap()
        }

        /// Waits (60 s at most) until the sentinels name a master other than `old` and it
        /// says it is one; its port.
        pub async fn promoted(&self, old: u16) -> u16 {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            loop {
                let p = self.master_port().await;
                if p != old {
                    let role: Vec<redis::Value> = query(p, &["ROLE"]).await.unwrap_or_default();
                    if role
                        .first()
                        .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok())
                        == Some("master".into())
                    {
                        return p;
                    }
                }
                assert!(std::time::Instant::now() < deadline, "no replica promoted");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }

        pub fn addresses(&self) -> Vec<super::NodeAddress> {
            self.sentinels
                .iter()
                .map(|s| super::NodeAddress {
                    host: "127.0.0.1".into(),
                    port: s.port,
                })
                .collect()
        }
    }

    /// One command on a short-lived connection to `port`.
    pub async fn query<T: redis::FromRedisValue>(
        port: u16,
        args: &[&str],
    ) -> redis::RedisResult<T> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
        let mut con = client.get_multiplexed_async_connection().await?;
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query_async(&mut con).await
    }
}

fn config(sentinels: Vec<NodeAddress>, name: &str, retry: RetryPolicy) -> RedisConfig {
    RedisConfig {
        topology: Topology::Sentinel {
            sentinels,
            name: name.to_owned(),
            sentinel_username: None,
            sentinel_password: None,
        },
        retry,
        ..Default::default()
    }
}

/// A command counter from `INFO commandstats` (`cmdstat_<name>:calls=N,...`).
async fn calls(port: u16, command: &str) -> u64 {
    let info: String = topology::query(port, &["INFO", "commandstats"])
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_commands_failing_at_once_share_each_round_of_questions_to_the_sentinels() {
    let mut set = SentinelSet::start(1).await;
    let delay = Duration::from_millis(100);
    let retry = RetryPolicy {
        max_retries: None,
        delay,
    };
    let engine = Engine::connect(&config(set.addresses(), &set.name, retry), "jqs")
        .await
        .unwrap();
    let con = engine.connection();
    const TASKS: usize = 200;
    let stop = Arc::new(AtomicBool::new(false));
    let last_ok: Arc<Vec<AtomicU64>> = Arc::new((0..TASKS).map(|_| AtomicU64::new(0)).collect());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let (con, stop, last_ok) = (con.clone(), stop.clone(), last_ok.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("jqs:count:{i}");
            while !stop.load(Ordering::Relaxed) {
                let r: redis::RedisResult<i64> = redis::cmd("INCR")
                    .arg(&key)
                    .query_async(&mut con.clone())
                    .await;
                r.expect("retried until the new master answers");
                last_ok[i].store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
        }));
    }
    assert!(
        wait_for(Duration::from_secs(10), || async {
            last_ok.iter().all(|t| t.load(Ordering::Relaxed) > 0)
        })
        .await
    );
    let before = engine.sentinel_resolutions().unwrap();
    let old = set.master_port().await;
    let killed = start.elapsed().as_millis() as u64;
    set.node(old).kill();
    let new = set.promoted(old).await;
    // every one of the 200 command loops gets through to the new master
    let through = wait_for(Duration::from_secs(20), || async {
        last_ok
            .iter()
            .all(|t| t.load(Ordering::Relaxed) > killed + 200)
    })
    .await;
    let rounds = engine.sentinel_resolutions().unwrap() - before;
    let outage = start.elapsed().as_millis() as u64 - killed;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(through, "every command loop reached the new master {new}");
    // one round per retry delay at most (plus a few), however many commands wait: without
    // sharing, each of the 200 waiting commands would ask at each of its retries
    let most = outage / delay.as_millis() as u64 + 5;
    eprintln!(
        "failover followed in {outage} ms with {rounds} rounds of questions (at most {most})"
    );
    assert!(rounds <= most, "{rounds} rounds in {outage} ms");
    assert!(rounds >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_that_is_down_or_frozen_is_skipped() {
    let mut set = SentinelSet::start(1).await;
    // first a port nothing listens on, then a sentinel that is frozen (it accepts
    // connections but answers nothing), then the two that work
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set.sentinels[0].signal("STOP");
    let mut sentinels = vec![NodeAddress {
        host: "127.0.0.1".into(),
        port: dead,
    }];
    sentinels.extend(set.addresses());
    let retry = RetryPolicy {
        max_retries: None,
        delay: Duration::from_millis(100),
    };
    let started = Instant::now();
    let engine = Engine::connect(&config(sentinels, &set.name, retry), "jqs")
        .await
        .expect("the sentinels that answer name the master");
    eprintln!("connected in {} ms", started.elapsed().as_millis());
    let con = engine.connection();
    let _: () = redis::cmd("SET")
        .arg("jqs:k")
        .arg("before")
        .query_async(&mut con.clone())
        .await
        .unwrap();
    // the two live sentinels are a quorum (2) and a majority of 3: they fail over alone
    let old = set.master_port().await;
    set.node(old).kill();
    let new = set.promoted(old).await;
    let _: () = redis::cmd("SET")
        .arg("jqs:k")
        .arg("after")
        .query_async(&mut con.clone())
        .await
        .expect("the engine follows the failover with one sentinel down and one frozen");
    let on_new: String = topology::query(new, &["GET", "jqs:k"]).await.unwrap();
    assert_eq!(on_new, "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_adds_share_one_wait_per_group() {
    let set = SentinelSet::start(1).await;
    let master = set.master_port().await;
    let mut config = config(set.addresses(), &set.name, RetryPolicy::default());
    config.wait = Some(WaitReplicas {
        replicas: 1,
        timeout: Duration::from_secs(2),
    });
    let engine = Engine::connect(&config, "jqs").await.unwrap();
    let queue = engine.queue("durable").unwrap();
    // the script is loaded by the first add
    queue
        .add(&[request("warm", serde_json::json!({}))])
        .await
        .unwrap();
    let (evals, waits) = (calls(master, "evalsha").await, calls(master, "wait").await);
    const ADDS: usize = 400;
    let adds = (0..ADDS).map(|i| {
        let queue = queue.clone();
        async move {
            queue
                .add(&[request(
                    "j",
                    serde_json::json!({ "jobId": format!("d{i}") }),
                )])
                .await
        }
    });
    for r in futures_join_all(adds).await {
        assert_eq!(r.unwrap().len(), 1, "acknowledged by the replica");
    }
    let evals = calls(master, "evalsha").await - evals;
    let waits = calls(master, "wait").await - waits;
    eprintln!("{ADDS} concurrent adds: {evals} script calls, {waits} WAITs");
    assert_eq!(evals, ADDS as u64);
    assert!(
        waits * 4 <= ADDS as u64,
        "adds waiting together share a WAIT: {waits} for {ADDS}"
    );
    // and on the replica, every acknowledged job is there
    let replica = set.nodes.iter().find(|n| n.port != master).unwrap().port;
    let on_replica: u64 = topology::query(replica, &["LLEN", "jqs:durable:wait"])
        .await
        .unwrap();
    assert_eq!(on_replica, ADDS as u64 + 1);
}

/// `futures::future::join_all` without the futures crate: spawns each and awaits them.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_group_cut_off_while_wait_waits_is_resent_whole() {
    let set = SentinelSet::start(1).await;
    let master = set.master_port().await;
    // MONITOR shows every command the master runs, with the client's address; its lines
    // are read on a thread of their own
    let mut monitor = std::process::Command::new("redis-cli")
        .args(["-p", &master.to_string(), "MONITOR"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("redis-cli on PATH");
    let stdout = monitor.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(5)).unwrap(),
        "OK",
        "MONITOR started"
    );
    let mut config = config(set.addresses(), &set.name, RetryPolicy::default());
    // two replicas asked for, one there: every WAIT waits its whole timeout, so the
    // connection is nearly always cut while a group waits
    config.wait = Some(WaitReplicas {
        replicas: 2,
        timeout: Duration::from_millis(300),
    });
    let engine = Engine::connect(&config, "jqs").await.unwrap();
    let queue = engine.queue("cut").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut producers = Vec::new();
    for p in 0..8 {
        let (queue, stop) = (queue.clone(), stop.clone());
        producers.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = format!("p{p}-{n}");
                let r = queue
                    .add(&[request("j", serde_json::json!({ "jobId": id }))])
                    .await;
                outcomes.push((id, r));
            }
            outcomes
        }));
    }
    // cut the adds' connection (the one in WAIT) ten times, each time once it is back
    let mut cut = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while cut < 10 {
        assert!(Instant::now() < deadline, "only {cut} cuts");
        let list: String = topology::query(master, &["CLIENT", "LIST", "TYPE", "normal"])
            .await
            .unwrap();
        if let Some(id) = list
            .lines()
            .find(|l| l.contains("flags=b") && l.contains("cmd=wait"))
            .and_then(|l| l.split(' ').next()?.strip_prefix("id="))
        {
            let killed: u64 = topology::query(master, &["CLIENT", "KILL", "ID", id])
                .await
                .unwrap();
            cut += killed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for p in producers {
        outcomes.extend(p.await.unwrap());
    }
    drop(engine);
    // every add answered NotReplicated (one replica of the two), none failed otherwise
    for (id, r) in &outcomes {
        match r {
            Err(Error::NotReplicated {
                wanted: 2,
                acked: 1,
                ..
            }) => {}
            other => panic!("{id}: {other:?}"),
        }
    }
    // each job stored once, however often its group was resent
    let stored: u64 = topology::query(master, &["LLEN", "jqs:cut:wait"])
        .await
        .unwrap();
    assert_eq!(stored, outcomes.len() as u64);
    // per client, every WAIT comes right after a script call: never a WAIT alone, not even
    // first on a new connection
    let _ = monitor.kill();
    let _ = monitor.wait();
    reader.join().unwrap();
    let mut last: HashMap<String, String> = HashMap::new();
    let mut waiters = HashSet::new();
    for line in lines.try_iter() {
        // 1700000000.123456 [0 127.0.0.1:51234] "EVALSHA" ...
        let Some((client, rest)) = line
            .split_once(" [")
            .and_then(|(_, r)| r.split_once("] "))
            .map(|(c, r)| (c.to_owned(), r.to_owned()))
        else {
            continue;
        };
        if client.ends_with(" lua") {
            continue;
        }
        let command = rest.split('"').nth(1).unwrap_or("").to_ascii_uppercase();
        if command == "WAIT" {
            assert_eq!(
                last.get(&client).map(String::as_str),
                Some("EVALSHA"),
                "a WAIT from {client} not right after its script call"
            );
            waiters.insert(client.clone());
        }
        last.insert(client, command);
    }
    assert!(
        waiters.len() >= 10,
        "the adds came on {} connections (each cut makes a new one)",
        waiters.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_read_on_a_master_that_froze_moves_to_the_promoted_one() {
    let mut set = SentinelSet::start(1).await;
    let config = config(set.addresses(), &set.name, RetryPolicy::default());
    let engine = Engine::connect(&config, "jqs").await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _watch = engine
        .watch_events_blocking("frozen", None, Duration::from_secs(30), move |events| {
            for (_, fields) in events {
                let _ = tx.send(fields);
            }
            true
        })
        .unwrap();
    let old = set.master_port().await;
    // the watch is reading on the master
    assert!(
        wait_for(Duration::from_secs(5), || async {
            let list: String = topology::query(old, &["CLIENT", "LIST"]).await.unwrap();
            list.contains("cmd=xread")
        })
        .await
    );
    // frozen, not dead: its connections stay open and answer nothing, so nothing fails
    set.node(old).signal("STOP");
    let new = set.promoted(old).await;
    let frozen_at = Instant::now();
    let _: String = topology::query(
        new,
        &["XADD", "jqs:frozen:events", "*", "event", "after-failover"],
    )
    .await
    .unwrap();
    // the XREAD blocks for 30 s at a time: only the sentinels' word (or the grace after
    // those 30 s) gets it off the frozen master
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the watch reads from the promoted master")
        .unwrap();
    eprintln!(
        "event read on the new master {} ms after the promotion",
        frozen_at.elapsed().as_millis()
    );
    assert_eq!(got[0], ("event".to_owned(), "after-failover".to_owned()));
    // and the shared connection writes to the new master, not to the frozen one
    let _: () = redis::cmd("SET")
        .arg("jqs:after")
        .arg("1")
        .query_async(&mut engine.connection())
        .await
        .unwrap();
    let on_new: String = topology::query(new, &["GET", "jqs:after"]).await.unwrap();
    assert_eq!(on_new, "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_worker_carries_on_on_the_promoted_master() {
    let mut set = SentinelSet::start(1).await;
    let retry = RetryPolicy {
        max_retries: None,
        delay: Duration::from_millis(100),
    };
    let engine = Engine::connect(&config(set.addresses(), &set.name, retry), "jqs")
        .await
        .unwrap();
    let queue = engine.queue("busy").unwrap();
    let jobs: Vec<_> = (0..3000)
        .map(|_| request("b", serde_json::json!({})))
        .collect();
    for chunk in jobs.chunks(500) {
        queue.add(chunk).await.unwrap();
    }
    let (channel, mut rx) = common::dispatch::channel();
    let options = job_queue_core::WorkerOptions {
        concurrency: 8,
        ..Default::default()
    };
    let worker = Arc::new(engine.worker("busy", options, channel).await.unwrap());
    let completed = Arc::new(AtomicU64::new(0));
    let reporter = {
        let (worker, completed) = (worker.clone(), completed.clone());
        tokio::spawn(async move {
            while let Some(d) = rx.recv().await {
                worker.report(
                    d.handle,
                    job_queue_core::worker::Outcome::Completed("1".into()),
                );
                completed.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    assert!(
        wait_for(Duration::from_secs(20), || async {
            completed.load(Ordering::Relaxed) >= 300
        })
        .await
    );
    let old = set.master_port().await;
    set.node(old).kill();
    set.promoted(old).await;
    let at_promotion = completed.load(Ordering::Relaxed);
    // its round trips (two in flight, the second polled once and then left until the
    // first ends) wait out the failover and go on on the new master
    let carried_on = wait_for(Duration::from_secs(20), || async {
        completed.load(Ordering::Relaxed) >= at_promotion + 300
    })
    .await;
    assert!(
        carried_on,
        "{} jobs completed after the promotion",
        completed.load(Ordering::Relaxed) - at_promotion
    );
    worker.close(Duration::from_secs(2)).await;
    reporter.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_manual_failover_nothing_is_written_to_the_demoted_master() {
    let set = SentinelSet::start(1).await;
    let engine = Engine::connect(
        &config(set.addresses(), &set.name, RetryPolicy::default()),
        "jqs",
    )
    .await
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _watch = engine
        .watch_events_blocking("manual", None, Duration::from_secs(30), move |events| {
            for (_, fields) in events {
                let _ = tx.send(fields);
            }
            true
        })
        .unwrap();
    let con = engine.connection();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (con, stop) = (con.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let _: redis::RedisResult<()> = redis::cmd("SET")
                    .arg("jqs:manual:n")
                    .arg(n)
                    .query_async(&mut con.clone())
                    .await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let old = set.master_port().await;
    // the old master is demoted by the sentinels but stays up, serving its clients (and
    // taking their writes) until they reconfigure it, seconds later
    let _: String = topology::query(set.sentinels[0].port, &["SENTINEL", "FAILOVER", &set.name])
        .await
        .unwrap();
    let new = set.promoted(old).await;
    // the watch (every 500 ms) moves the engine: the writes land on the new master (which
    // replicates nothing since its promotion, so a counter that grows there is ours)
    let get = || async {
        topology::query::<Option<u64>>(new, &["GET", "jqs:manual:n"])
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    };
    let promoted_with = get().await;
    // within 2 s: before the sentinels get round to reconfiguring the old master (which
    // would cut the engine's connections anyway)
    assert!(
        wait_for(Duration::from_secs(2), || async {
            get().await > promoted_with
        })
        .await,
        "writes reach the new master"
    );
    // and from then on, over a second of writes, none reaches the old one
    let before = calls(old, "set").await;
    let still_master: Vec<redis::Value> = topology::query(old, &["ROLE"]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = calls(old, "set").await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    eprintln!(
        "the old master's role once the engine had moved: {:?}",
        redis::from_redis_value::<String>(still_master[0].clone()).ok()
    );
    assert_eq!(after, before, "writes reached the demoted master");
    let on_new: u64 = topology::query(new, &["GET", "jqs:manual:n"])
        .await
        .unwrap();
    assert!(on_new > 0);
    // the blocked XREAD moved too
    let _: String = topology::query(new, &["XADD", "jqs:manual:events", "*", "event", "moved"])
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("the watch reads from the new master")
        .unwrap();
    assert_eq!(got[0], ("event".to_owned(), "moved".to_owned()));
}

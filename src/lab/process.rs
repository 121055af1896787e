//! Lab processes: spawn drnode detached in its own process group, signal it, and tell whether a
//! pid is still ours (its command line names our data directory) before touching it.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcState {
    Running,
    Paused,
    Stopped,
}

impl std::fmt::Display for ProcState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProcState::Running => "running",
            ProcState::Paused => "paused",
            ProcState::Stopped => "stopped",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    Kill,
    Stop,
    Cont,
    Term,
}

/// Picks `n` distinct free loopback ports (all held open while choosing), below the kernel's
/// ephemeral range: a node killed and restarted gets its port back. A port from that range
/// (as `bind(0)` gives) can meanwhile be taken as the source port of any outgoing
/// connection on the machine, and the restarted node then cannot listen (`lab restart` hit
/// it in CI, under the load of the parallel tests).
pub fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    use rand::Rng;
    let top = ephemeral_floor();
    let mut rng = rand::rng();
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(n);
    let mut tries = 0;
    while listeners.len() < n && top > PORT_FLOOR && tries < 100 * n {
        tries += 1;
        let port = rng.random_range(PORT_FLOOR..top);
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            listeners.push(l);
        }
    }
    // The range below is exhausted or empty: what the kernel picks.
    while listeners.len() < n {
        listeners.push(TcpListener::bind("127.0.0.1:0")?);
    }
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// The lowest lab port: above the well-known and most registered service ports.
const PORT_FLOOR: u16 = 10_000;

/// The first port of the kernel's ephemeral range (32768 unless set otherwise).
fn ephemeral_floor() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// Starts `drnode serve` for `data_dir`, behind `prefix` (e.g. `ip netns exec NS`, which execs
/// it, so the pid returned is drnode's), told to exit when process `exit_with` is gone.
pub fn spawn(
    drnode: &Path,
    data_dir: &Path,
    prefix: &[String],
    exit_with: Option<u32>,
) -> std::io::Result<u32> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("drnode.log"))?;
    let mut cmd = match prefix.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(drnode);
            c
        }
        None => Command::new(drnode),
    };
    cmd.arg("serve").arg("--data-dir").arg(data_dir);
    if let Some(pid) = exit_with {
        cmd.args(["--exit-with-pid", &pid.to_string()]);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C in the operator's terminal does not reach it.
        .process_group(0)
        .spawn()?;
    Ok(child.id())
}

/// The process state of `pid`, if it is a drnode serving `data_dir`. Paths are compared
/// resolved (an argument against the process's own working directory), so a lab opened by a
/// relative `--lab-dir` finds the processes it started by an absolute one, and the reverse.
pub fn state(pid: u32, data_dir: &Path) -> ProcState {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return ProcState::Stopped;
    };
    let want = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
    let ours = String::from_utf8_lossy(&cmdline)
        .split('\0')
        .filter(|arg| !arg.is_empty())
        .any(|arg| {
            let p = cwd.join(arg);
            Path::new(arg) == data_dir || std::fs::canonicalize(&p).is_ok_and(|p| p == want)
        });
    if !ours {
        return ProcState::Stopped;
    }
    let Some(Stat { code, .. }) = stat(pid) else {
        return ProcState::Stopped;
    };
    match code {
        'Z' | 'X' => ProcState::Stopped,
        'T' | 't' => ProcState::Paused,
        _ => ProcState::Running,
    }
}

/// What `/proc/PID/stat` says of a process.
struct Stat {
    /// The state letter.
    code: char,
    /// Threads in the process, the main thread counted while it is a zombie.
    threads: u64,
    /// Clock ticks after boot.
    started: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields follow the parenthesised command name: state is the 3rd, num_threads the
    // 20th, starttime the 22nd.
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(Stat {
        code: rest.first()?.chars().next()?,
        threads: rest.get(17)?.parse().ok()?,
        started: rest.get(19)?.parse().ok()?,
    })
}

/// Whether `pid` is a zombie: dead, its files closed, not yet reaped by its parent (a daemon
/// that detached itself waits for init, which may take seconds).
/// True once `pid` has a socket listening on TCP `port`, in whatever network namespace it runs:
/// read from its own `/proc/<pid>/net/tcp{,6}`, so it holds even while a partition cuts the
/// node off from here. A server that logged it was starting may not have called `listen` yet
/// (slapd: a chaos run's first connection was refused 348 ms into the run).
pub fn listening(pid: u32, port: u16) -> bool {
    const LISTEN: &str = "0A";
    ["tcp", "tcp6"].iter().any(|f| {
        std::fs::read_to_string(format!("/proc/{pid}/net/{f}")).is_ok_and(|table| {
            table.lines().skip(1).any(|line| {
                let mut cols = line.split_whitespace().skip(1);
                let local = cols.next().unwrap_or_default();
                let state = cols.nth(1).unwrap_or_default();
                state == LISTEN
                    && local
                        .rsplit_once(':')
                        .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                        == Some(port)
            })
        })
    })
}

pub fn zombie(pid: u32) -> bool {
    stat(pid).is_some_and(|s| matches!(s.code, 'Z' | 'X'))
}

/// The start time of `pid`, to tell it from a later process given the same pid.
pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.started)
}

/// Whether the process that was `pid` (started at `started`) has exited with every thread, so
/// its files (a data directory's lock, its ports) are closed: it is gone, or a zombie without
/// threads, or the pid is another process's now. Not its command line, nor the main thread's
/// state alone: a killed main thread is a zombie with an empty command line while another
/// thread still finishes an fsync holding the files they share. A node restarted in that window
/// found its directory still locked (CI, `join_exports_the_writes_a_standalone_node_took`).
pub fn exited(pid: u32, started: Option<u64>) -> bool {
    match stat(pid) {
        None => true,
        Some(s) => {
            started.is_some_and(|at| at != s.started)
                || (matches!(s.code, 'Z' | 'X') && s.threads <= 1)
        }
    }
}

pub fn send(pid: u32, sig: Sig) -> nix::Result<()> {
    let signal = match sig {
        Sig::Kill => Signal::SIGKILL,
        Sig::Stop => Signal::SIGSTOP,
        Sig::Cont => Signal::SIGCONT,
        Sig::Term => Signal::SIGTERM,
    };
    kill(Pid::from_raw(pid as i32), signal)
}

/// Sends `sig` to a node's server `pid` and, for KILL and TERM, waits up to `grace` until
/// `gone` says it is, then SIGKILLs it. A paused server acts on TERM only once it runs again,
/// so it is continued first.
pub fn signal_until_gone(
    pid: u32,
    sig: Sig,
    grace: Duration,
    gone: impl Fn() -> bool,
) -> Result<(), super::LabError> {
    let send = |sig| {
        self::send(pid, sig).map_err(|e| super::LabError::Failed(format!("signal {pid}: {e}")))
    };
    let started = start_time(pid);
    send(sig)?;
    if matches!(sig, Sig::Kill | Sig::Term) {
        let _ = send(Sig::Cont);
        let wait = || crate::util::poll::holds(gone() && exited(pid, started));
        let _ = crate::util::poll::within_blocking(grace, Duration::from_millis(5), wait);
        if !gone() && !exited(pid, started) {
            send(Sig::Kill)?;
        }
    }
    Ok(())
}

/// Processes whose command line names `dir` or a path inside it (a lab's drnode and slapd).
pub fn pids_under(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .split('\0')
                        .any(|arg| Path::new(arg).starts_with(dir))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Waits until the process that was `pid` (started at `started`) has exited, its files closed;
/// true if it went in time.
pub fn wait_gone(pid: u32, started: Option<u64>, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if exited(pid, started) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A killed drnode's main thread was a zombie with an empty command line while another of
    /// its threads still held the data directory's lock; the lab took it for gone and the
    /// restart found the directory locked.
    #[test]
    fn a_listening_socket_is_seen_by_port_and_a_closed_one_is_not() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("address").port();
        assert!(listening(std::process::id(), port));
        drop(l);
        assert!(!listening(std::process::id(), port));
        assert!(!listening(u32::MAX, port), "no such process listens");
    }

    #[test]
    fn a_process_whose_main_thread_ended_has_not_exited_while_a_thread_lives() {
        // The main thread ends (pthread_exit, the GIL released around the call); a thread lives.
        let script = "import ctypes, threading, time\n\
                      threading.Thread(target=time.sleep, args=(120,)).start()\n\
                      ctypes.CDLL(None).pthread_exit(None)\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .spawn()
            .expect("python3 (a dependency of the samba packages) runs the test's process");
        let pid = child.id();
        let started = start_time(pid);
        assert!(started.is_some());
        let zombie_leader = || stat(pid).is_some_and(|s| s.code == 'Z' && s.threads == 2);
        let ended = crate::util::poll::within_blocking(
            Duration::from_secs(10),
            Duration::from_millis(5),
            || crate::util::poll::holds(zombie_leader()),
        );
        assert!(ended.is_ok(), "the child's main thread never ended");
        assert!(!exited(pid, started), "a live thread was taken for an exit");
        assert!(!wait_gone(pid, started, Duration::from_millis(100)));
        send(pid, Sig::Kill).expect("kill");
        assert!(wait_gone(pid, started, Duration::from_secs(10)));
        // Another process given the pid later is not the one we waited on.
        assert!(exited(pid, started.map(|s| s + 1)));
        child.wait().expect("reaped");
        assert!(exited(pid, started));
    }
}

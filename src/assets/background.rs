//! Image work off the critical path, for the preview: the pages are served at once with their
//! images' source files, while worker threads make the outputs into the cache and hand the
//! results back in batches.
//!
//! Workers take one image at a time (memory holds one decoded image per worker), run at a
//! lower CPU priority than the rest of the process, and start no new image while a rebuild
//! holds a [`Pause`]: a writer's save never waits behind a screenshot.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Job, Planned, Problem};

/// How long finished images wait to be handed back together (one reload per batch, not one
/// per image), unless the queue runs dry first.
pub const BATCH: Duration = Duration::from_secs(1);

/// The result of one image's job.
#[derive(Debug)]
pub struct Done {
    /// The key the image was planned with (see [`super::ImageSet::finish`]).
    pub key: String,
    /// The plan as published, or why the image cannot be.
    pub result: Result<Planned, Problem>,
    /// libwebp encoder runs spent on it.
    pub encodes: u32,
}

/// How far the background work is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// Images finished since the queue was last empty.
    pub done: usize,
    /// Images finished or waiting since the queue was last empty.
    pub total: usize,
    /// When the current run of work started.
    pub since: Option<Instant>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Keys being worked on now: a resubmitted job for one of these is dropped.
    running: HashSet<String>,
    done: Vec<Done>,
    status: Status,
    paused: usize,
    stop: bool,
    last_handoff: Option<Instant>,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    ready: Box<dyn Fn() + Send + Sync>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The background workers. Dropping it stops them after their current image.
pub struct Background {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background")
            .field("status", &self.status())
            .finish()
    }
}

impl Background {
    /// Starts `workers` threads. `ready` is called (from a worker) when a batch of results can
    /// be taken with [`Background::take`].
    pub fn start(workers: usize, ready: impl Fn() + Send + Sync + 'static) -> Background {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            ready: Box::new(ready),
        });
        for i in 0..workers.max(1) {
            let inner = inner.clone();
            // A worker that cannot start leaves the others; with none, images stay as their
            // sources, which the preview shows correctly anyway.
            let _ = std::thread::Builder::new()
                .name(format!("docsite-images-{i}"))
                .spawn(move || work(&inner));
        }
        Background { inner }
    }

    /// Replaces the waiting work with `jobs` (after the whole site was loaded again).
    pub fn replace(&self, jobs: Vec<Job>) {
        let mut state = self.inner.lock();
        let dropped = state.queue.len();
        state.queue.clear();
        state.status.total = state.status.total.saturating_sub(dropped);
        drop(state);
        self.add(jobs);
    }

    /// Adds `jobs` to the waiting work, but for images already waiting or being made.
    pub fn add(&self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let mut state = self.inner.lock();
        if state.queue.is_empty() && state.running.is_empty() {
            state.status = Status {
                done: 0,
                total: 0,
                since: Some(Instant::now()),
            };
        }
        let mut known: HashSet<String> = state.running.clone();
        known.extend(state.queue.iter().map(|j| j.planned.key.clone()));
        for job in jobs {
            if known.insert(job.planned.key.clone()) {
                state.queue.push_back(job);
                state.status.total += 1;
            }
        }
        drop(state);
        self.inner.wake.notify_all();
    }

    /// The results finished since the last call.
    pub fn take(&self) -> Vec<Done> {
        std::mem::take(&mut self.inner.lock().done)
    }

    /// How far the work is.
    pub fn status(&self) -> Status {
        self.inner.lock().status
    }

    /// Whether no image waits or is being made.
    pub fn idle(&self) -> bool {
        let state = self.inner.lock();
        state.queue.is_empty() && state.running.is_empty()
    }

    /// Holds new images back until the guard is dropped (an image already started finishes).
    pub fn pause(&self) -> Pause {
        self.inner.lock().paused += 1;
        Pause {
            inner: self.inner.clone(),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.inner.lock().stop = true;
        self.inner.wake.notify_all();
    }
}

/// Keeps the workers from starting new images while it lives (see [`Background::pause`]).
pub struct Pause {
    inner: Arc<Inner>,
}

impl Drop for Pause {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        state.paused = state.paused.saturating_sub(1);
        drop(state);
        self.inner.wake.notify_all();
    }
}

fn work(inner: &Inner) {
    lower_priority();
    loop {
        let job = {
            let mut state = inner.lock();
            loop {
                if state.stop {
                    return;
                }
                if state.paused == 0 {
                    if let Some(job) = state.queue.pop_front() {
                        state.running.insert(job.planned.key.clone());
                        break job;
                    }
                }
                state = inner
                    .wake
                    .wait_timeout(state, Duration::from_millis(200))
                    .map(|(s, _)| s)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
        };
        let key = job.planned.key.clone();
        let (result, encodes) = match job.run() {
            Ok((planned, encodes)) => (Ok(planned), encodes),
            Err(problem) => (Err(problem), 0),
        };
        let hand_off = {
            let mut state = inner.lock();
            state.running.remove(&key);
            state.done.push(Done {
                key,
                result,
                encodes,
            });
            state.status.done += 1;
            let drained = state.queue.is_empty() && state.running.is_empty();
            let due = state.last_handoff.is_none_or(|t| t.elapsed() >= BATCH);
            if drained || due {
                state.last_handoff = Some(Instant::now());
            }
            drained || due
        };
        if hand_off {
            (inner.ready)();
        }
    }
}

/// Gives the calling thread a lower CPU priority (nice 10), so that rebuilds and requests win
/// the cores. On Linux the nice value is per thread.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its arguments; `who = 0` names the calling thread.
    unsafe {
        let _ = libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_queue_starts_nothing_and_resumes() {
        let bg = Background::start(1, || {});
        let pause = bg.pause();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("missing.png");
        let job = Job {
            planned: Planned {
                rel: "missing.png".into(),
                path,
                display: "missing.png".into(),
                format: super::super::Format::Png,
                width: 1,
                height: 1,
                size: 1,
                key: "k".into(),
                outputs: vec![super::super::Output {
                    rel: "assets/missing.k.webp".into(),
                    width: 1,
                    height: 1,
                    resized: None,
                }],
                verbatim: false,
                animated: false,
            },
            options: crate::config::ImageOptions::default(),
            cache: super::super::Cache::new(dir.path()),
        };
        bg.add(vec![job]);
        std::thread::sleep(Duration::from_millis(300));
        assert!(bg.take().is_empty(), "a paused worker started an image");
        drop(pause);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut done = Vec::new();
        while done.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            done = bg.take();
        }
        assert_eq!(done.len(), 1);
        // The file is gone: the image gets its problem, not a panic.
        assert!(done[0].result.is_err());
        assert!(bg.idle());
    }
}

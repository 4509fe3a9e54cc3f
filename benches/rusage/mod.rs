//! `wait4(2)` with the child's `struct rusage` (Linux, 64-bit `long`).
#[repr(C)]
#[derive(Default)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}
#[repr(C)]
#[derive(Default)]
pub struct Rusage {
    pub utime: Timeval,
    pub stime: Timeval,
    /// KiB on Linux.
    pub maxrss: i64,
    pub rest: [i64; 13],
}
unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}
/// Reaps `pid`: (exited with status 0, its rusage).
pub fn wait(pid: u32) -> std::io::Result<(bool, Rusage)> {
    let mut status = 0i32;
    let mut ru = Rusage::default();
    loop {
        // SAFETY: valid pointers to owned, correctly laid out values.
        let r = unsafe { wait4(pid as i32, &mut status, 0, &mut ru) };
        if r == pid as i32 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // WIFEXITED && WEXITSTATUS == 0
    Ok((status & 0x7f == 0 && (status >> 8) & 0xff == 0, ru))
}

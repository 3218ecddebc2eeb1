"""Runs a command under a pseudo-terminal, as a user at a terminal would, for the interrupt
tests in interrupt.rs (Rust's standard library has no pseudo-terminal).

usage: pty_run.py MODE TRIGGER TRANSCRIPT -- COMMAND ARGS...

MODE is `ctrl-c` (type Ctrl-C on the terminal), `sigint` (send SIGINT to the process, as
`kill -INT` from another shell does) or `none`; it happens once the file TRIGGER exists, or,
for TRIGGER = `PATH::TEXT`, once the file PATH contains TEXT.
Everything the command writes to the terminal is saved in TRANSCRIPT. The exit status is the
command's (128 + n if a signal n killed it), or 124 if it did not end within 300 s.
"""

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def triggered(trigger: str) -> bool:
    path, _, text = trigger.partition("::")
    try:
        with open(path, encoding="utf-8") as f:
            return text in f.read()
    except OSError:
        return False


def main() -> int:
    mode, trigger, transcript = sys.argv[1], sys.argv[2], sys.argv[3]
    command = sys.argv[sys.argv.index("--") + 1 :]
    pid, fd = pty.fork()
    if pid == 0:
        # A terminal of 40 rows and 120 columns, as the dashboard needs a size.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execv(command[0], command)
    output = bytearray()
    sent = mode == "none"
    start = time.monotonic()
    status = None
    while status is None:
        if time.monotonic() - start > 300:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = 124
            break
        if not sent and triggered(trigger):
            if mode == "ctrl-c":
                os.write(fd, b"\x03")
            else:
                os.kill(pid, signal.SIGINT)
            sent = True
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            output.extend(chunk)
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            # Drain what is left.
            while True:
                try:
                    ready, _, _ = select.select([fd], [], [], 0.1)
                    if not ready:
                        break
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    output.extend(chunk)
                except OSError:
                    break
            if os.WIFSIGNALED(code):
                status = 128 + os.WTERMSIG(code)
            else:
                status = os.WEXITSTATUS(code)
    with open(transcript, "wb") as f:
        f.write(bytes(output))
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Compare two gost binaries (e.g. the git-built gost v3.2.6 and the peers/gost-wrapper build)
on 127.0.0.1 only: same command lines, same traffic, same observable results.

Usage: compare-gost.py REFERENCE_BINARY CANDIDATE_BINARY
Exit status 0 when every check gives the same result for both binaries (and the traffic checks
pass). Prints one line per check. Needs only python3.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
PAYLOAD = os.urandom(1 << 20)  # 1 MiB of random bytes per transfer check


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---------------------------------------------------------------------------- helper servers
class EchoServer(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self.echo, args=(c,), daemon=True).start()

    @staticmethod
    def echo(c):
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
        except OSError:
            pass
        finally:
            c.close()


class HttpServer(threading.Thread):
    """Minimal origin server: answers every request with a fixed body naming the request line."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def serve(c):
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                b = c.recv(4096)
                if not b:
                    return
                data += b
            line = data.split(b"\r\n", 1)[0]
            body = b"origin saw: " + line + b"\n"
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % len(body) + body)
        finally:
            c.close()


# ---------------------------------------------------------------------------- gost processes
class Gost:
    def __init__(self, binary, args):
        self.args = args
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen([binary] + args, stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT)

    def wait_port(self, port, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.p.poll() is not None:
                raise RuntimeError("gost exited %s: %s" % (self.p.returncode, self.output()))
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("port %d not open" % port)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode

    def output(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(min(65536, n - len(buf)))
        if not b:
            break
        buf += b
    return buf


def echo_through(s, payload=PAYLOAD):
    """Send payload on an established stream and read it back; returns 'ok' or a description."""
    box = {}

    def reader():
        box["data"] = recv_exact(s, len(payload))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    s.sendall(payload)
    t.join(30)
    got = box.get("data", b"")
    return "ok %d bytes" % len(got) if got == payload else "MISMATCH got %d bytes" % len(got)


def tcp_echo(port, payload=PAYLOAD):
    with socket.create_connection((HOST, port), timeout=20) as s:
        return echo_through(s, payload)


def parallel_echo(port, n=8, size=128 << 10):
    res = [None] * n

    def one(i):
        try:
            res[i] = tcp_echo(port, os.urandom(size))
        except OSError as e:
            res[i] = "error %s" % e

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return "%d/%d ok" % (sum(1 for r in res if r and r.startswith("ok")), n)


def socks5(port, echo_port, user=None, pw=None, methods=None):
    s = socket.create_connection((HOST, port), timeout=20)
    try:
        methods = methods if methods is not None else ([2] if user else [0])
        s.sendall(bytes([5, len(methods)] + methods))
        sel = recv_exact(s, 2)
        out = ["method=%s" % sel.hex()]
        if len(sel) < 2 or sel[1] == 0xFF:
            return " ".join(out)
        if sel[1] == 2:
            if user is None:
                return " ".join(out + ["(server picked user/pass although not offered)"])
            u, p = user.encode(), pw.encode()
            s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
            a = recv_exact(s, 2)
            out.append("auth=%s" % a.hex())
            if len(a) < 2 or a[1] != 0:
                return " ".join(out)
        s.sendall(bytes([5, 1, 0, 1]) + socket.inet_aton(HOST) + struct.pack(">H", echo_port))
        rep = recv_exact(s, 10)
        out.append("reply=%s atyp=%s" % (rep[:2].hex(), rep[3:4].hex()))  # bound addr/port vary
        if len(rep) == 10 and rep[1] == 0:
            out.append(echo_through(s))
        return " ".join(out)
    finally:
        s.close()


def read_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(1)
        if not b:
            break
        data += b
    return data.decode("latin-1")


def status_and_headers(head, keep=("content-type", "connection", "proxy-agent", "upgrade",
                                   "proxy-authenticate", "content-length")):
    lines = head.split("\r\n")
    hs = sorted(l.lower() for l in lines[1:] if l and l.split(":")[0].lower() in keep)
    return lines[0] + " | " + "; ".join(hs)


def http_connect(port, echo_port, auth=None):
    with socket.create_connection((HOST, port), timeout=20) as s:
        req = "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n" % (HOST, echo_port, HOST, echo_port)
        if auth:
            import base64
            req += "Proxy-Authorization: Basic %s\r\n" % base64.b64encode(auth.encode()).decode()
        s.sendall((req + "\r\n").encode())
        head = read_head(s)
        r = status_and_headers(head)
        if " 200 " in head.split("\r\n")[0]:
            r += " | " + echo_through(s)
        return r


def http_get(port, origin_port):
    with socket.create_connection((HOST, port), timeout=20) as s:
        s.sendall(("GET http://%s:%d/hello?x=1 HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
                   % (HOST, origin_port, HOST, origin_port)).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        head, _, body = data.decode("latin-1").partition("\r\n\r\n")
        return status_and_headers(head + "\r\n\r\n") + " | body=" + body.strip()


def ws_upgrade(port, path):
    with socket.create_connection((HOST, port), timeout=20) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                   % (path, HOST, port)).encode())
        head = read_head(s)
        accept = re.search(r"(?i)sec-websocket-accept: *(\S+)", head)
        return status_and_headers(head) + (" | accept=" + accept.group(1) if accept else "")


def dump_config(binary, args):
    """-O json: the config gost builds from the command line (x/config/cmd + parser)."""
    r = subprocess.run([binary] + args + ["-O", "json"], capture_output=True, timeout=20)
    try:
        return json.dumps(json.loads(r.stdout), sort_keys=True)
    except ValueError:
        return "rc=%d out=%r err=%r" % (r.returncode, r.stdout[:200], r.stderr[:200])


def norm_log(text, ordered=True):
    """Debug log lines reduced to level+kind+service+msg, numbers removed; unordered = sorted
    (lines of concurrent goroutines interleave differently from run to run)."""
    out = []
    for line in text.splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            out.append(re.sub(r"\d+", "N", line)[:120])
            continue
        out.append("%s %s %s %s" % (j.get("level"), j.get("kind"), j.get("service", ""),
                                    re.sub(r"\d+", "N", str(j.get("msg")))))
    return out if ordered else sorted(out)


# ---------------------------------------------------------------------------- checks
def run_checks(ref, cand):
    echo = EchoServer()
    echo.start()
    origin = HttpServer()
    origin.start()
    results = []  # (name, ref_result, cand_result, must_be_ok)

    def server_check(name, scheme_fmt, probe, extra=()):
        per = {}
        for label, b in (("ref", ref), ("cand", cand)):
            port = free_port()
            args = ["-L", scheme_fmt.format(port=port, echo=echo.port)] + list(extra)
            g = Gost(b, args)
            try:
                g.wait_port(port)
                per[label] = probe(port)
            except Exception as e:  # noqa: BLE001 - any failure is a result to compare
                per[label] = "error %s" % e
            finally:
                g.stop()
        results.append((name, per["ref"], per["cand"]))

    def chain_check(name, server_fmt, node_fmt, probe=tcp_echo):
        # all four pairings: client binary x server binary
        for cl, cb in (("ref", ref), ("cand", cand)):
            per = {}
            for sl, sb in (("ref", ref), ("cand", cand)):
                sport, cport = free_port(), free_port()
                srv = Gost(sb, ["-L", server_fmt.format(port=sport)])
                cli = None
                try:
                    srv.wait_port(sport)
                    cli = Gost(cb, ["-L", "tcp://%s:%d/%s:%d" % (HOST, cport, HOST, echo.port),
                                    "-F", node_fmt.format(port=sport)])
                    cli.wait_port(cport)
                    per[sl] = probe(cport)
                except Exception as e:  # noqa: BLE001
                    per[sl] = "error %s" % e
                finally:
                    if cli:
                        cli.stop()
                    srv.stop()
            results.append(("%s [client=%s] server ref vs cand" % (name, cl), per["ref"], per["cand"]))

    # -O json: command line -> config conversion (depends on the registered components too)
    cmdlines = [
        ["-L", "socks5://user:pass@127.0.0.1:1080"],
        ["-L", "http://127.0.0.1:8080"],
        ["-L", "relay+ws://127.0.0.1:8443?path=/ws"],
        ["-L", "relay+grpc://127.0.0.1:8444?grpcInsecure=true"],
        ["-L", "tcp://127.0.0.1:9000/127.0.0.1:7"],
        ["-L", "tcp://127.0.0.1:9001/127.0.0.1:7", "-F", "relay+ws://127.0.0.1:8443?path=/ws"],
        ["-L", "tcp://127.0.0.1:9002/127.0.0.1:7", "-F", "relay+grpc://127.0.0.1:8444?grpcInsecure=true"],
        ["-L", "pht://127.0.0.1:8445"], ["-L", "relay+pht://127.0.0.1:8446"],
        ["-L", "h2c://127.0.0.1:8447"], ["-L", "relay+h2c://127.0.0.1:8448"],
        ["-L", "tcp://127.0.0.1:9003/127.0.0.1:7", "-F", "http+pht://127.0.0.1:8445",
         "-F", "socks5+h2c://u:p@127.0.0.1:8447"],
        ["-L", "foo+bar://127.0.0.1:1"],  # unknown handler/listener -> auto+tcp fallback
        ["-L", "ss://chacha20-ietf-poly1305:pw@127.0.0.1:8338", "-L", "kcp://127.0.0.1:8339",
         "-L", "quic://127.0.0.1:8340", "-L", "tun://:0?net=10.9.0.1/24", "-L", "socks5+wss://:8341"],
        ["-L", "relay+mws://127.0.0.1:8342", "-F", "relay+h3://127.0.0.1:8343", "-D"],
    ]
    for args in cmdlines:
        results.append(("-O json " + " ".join(args), dump_config(ref, args), dump_config(cand, args)))

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        cfg_port = free_port()
        f.write("services:\n- name: svc-from-file\n  addr: 127.0.0.1:%d\n  handler:\n    type: socks5\n"
                "  listener:\n    type: tcp\n" % cfg_port)
        cfg_file = f.name
    results.append(("-O json -C file + -L", dump_config(ref, ["-C", cfg_file, "-L", "http://127.0.0.1:1"]),
                    dump_config(cand, ["-C", cfg_file, "-L", "http://127.0.0.1:1"])))

    # servers driven by raw clients
    server_check("socks5 user:pass, right credentials", "socks5://user:pass@127.0.0.1:{port}",
                 lambda p: socks5(p, echo.port, "user", "pass"))
    server_check("socks5 user:pass, wrong password", "socks5://user:pass@127.0.0.1:{port}",
                 lambda p: socks5(p, echo.port, "user", "nope"))
    server_check("socks5 user:pass, only no-auth offered", "socks5://user:pass@127.0.0.1:{port}",
                 lambda p: socks5(p, echo.port, methods=[0]))
    server_check("socks5 no auth", "socks5://127.0.0.1:{port}", lambda p: socks5(p, echo.port))
    server_check("http CONNECT", "http://127.0.0.1:{port}", lambda p: http_connect(p, echo.port))
    server_check("http GET absolute-URI", "http://127.0.0.1:{port}", lambda p: http_get(p, origin.port))
    server_check("http user:pass, no credentials", "http://u:p@127.0.0.1:{port}",
                 lambda p: http_connect(p, echo.port))
    server_check("http user:pass, credentials", "http://u:p@127.0.0.1:{port}",
                 lambda p: http_connect(p, echo.port, "u:p"))
    server_check("tcp forward 1 MiB", "tcp://127.0.0.1:{port}/127.0.0.1:{echo}", tcp_echo)
    server_check("tcp forward 8 parallel x 128 KiB", "tcp://127.0.0.1:{port}/127.0.0.1:{echo}", parallel_echo)
    server_check("relay+ws upgrade on /ws", "relay+ws://127.0.0.1:{port}?path=/ws", lambda p: ws_upgrade(p, "/ws"))
    server_check("relay+ws upgrade on /other", "relay+ws://127.0.0.1:{port}?path=/ws",
                 lambda p: ws_upgrade(p, "/other"))
    server_check("-C file socks5 service", "http://127.0.0.1:{port}",
                 lambda p: socks5(cfg_port, echo.port), extra=("-C", cfg_file))

    # client gost (-L tcp forward -F node) + server gost, every pairing
    chain_check("relay+ws ?path=/ws", "relay+ws://127.0.0.1:{port}?path=/ws", "relay+ws://127.0.0.1:{port}?path=/ws")
    chain_check("relay+grpc insecure", "relay+grpc://127.0.0.1:{port}?grpcInsecure=true",
                "relay+grpc://127.0.0.1:{port}?grpcInsecure=true")
    chain_check("relay+pht", "relay+pht://127.0.0.1:{port}", "relay+pht://127.0.0.1:{port}")
    chain_check("pht (auto handler) via http+pht", "pht://127.0.0.1:{port}", "http+pht://127.0.0.1:{port}")
    chain_check("relay+h2c", "relay+h2c://127.0.0.1:{port}", "relay+h2c://127.0.0.1:{port}")
    chain_check("h2c (auto handler) via socks5+h2c", "h2c://127.0.0.1:{port}", "socks5+h2c://127.0.0.1:{port}")
    chain_check("socks5 user:pass via -F socks5://", "socks5://u:p@127.0.0.1:{port}", "socks5://u:p@127.0.0.1:{port}")
    chain_check("relay+ws parallel", "relay+ws://127.0.0.1:{port}?path=/ws", "relay+ws://127.0.0.1:{port}?path=/ws",
                parallel_echo)

    # -D log output for one forwarded connection, and SIGTERM exit status
    per = {}
    for label, b in (("ref", ref), ("cand", cand)):
        port = free_port()
        g = Gost(b, ["-D", "-L", "tcp://127.0.0.1:%d/127.0.0.1:%d" % (port, echo.port)])
        g.wait_port(port)
        tcp_echo(port, b"x" * 1000)
        time.sleep(0.5)
        rc = g.stop()
        per[label] = ("rc=%s\n" % rc) + "\n".join(norm_log(g.output(), ordered=False))
    results.append(("-D log lines (sorted: level kind service msg) + SIGTERM exit", per["ref"], per["cand"]))

    # bad command line: exit status and message
    per = {}
    for label, b in (("ref", ref), ("cand", cand)):
        g = Gost(b, ["-L", "socks5://127.0.0.1:notaport"])
        time.sleep(2)
        running = g.p.poll() is None
        rc = g.stop()
        per[label] = "running after 2 s=%s rc=%s\n%s" % (running, rc, "\n".join(norm_log(g.output())))
    results.append(("bad -L port (log, still running?)", per["ref"], per["cand"]))
    per = {}
    for label, b in (("ref", ref), ("cand", cand)):
        r = subprocess.run([b, "-Z"], capture_output=True, timeout=20)
        per[label] = "rc=%d %s" % (r.returncode, re.sub(r"(?m)^Usage of \S+:", "Usage of gost:", (r.stdout + r.stderr).decode()))
    results.append(("unknown flag -Z (usage text)", per["ref"], per["cand"]))
    os.unlink(cfg_file)
    return results


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ref, cand = sys.argv[1], sys.argv[2]
    for b in (ref, cand):
        print("version %s: %s" % (b, subprocess.run([b, "-V"], capture_output=True, text=True).stdout.strip()))
    bad = 0
    for name, r, c in run_checks(ref, cand):
        same = r == c
        broken = any(x in r for x in ("error", "MISMATCH"))
        if not same:
            bad += 1
        flag = "SAME" if same else "DIFF"
        short = r if len(r) < 200 and "\n" not in r else "(%d chars, %d lines)" % (len(r), r.count("\n") + 1)
        print("%s %-60s %s%s" % (flag, name, short, "  [traffic failed on both]" if same and broken else ""))
        if not same:
            print("   ref : %s\n   cand: %s" % (r, c))
    print("%d checks differ" % bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

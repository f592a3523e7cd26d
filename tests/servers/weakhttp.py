#!/usr/bin/python3
"""weakhttp.py: a plain HTTP file server (standard library only) whose
answers pin an object weakly or not at all, as small web servers do: no
ETag ever, Range ignored (200 with the whole file), and by option

  --no-last-modified   no Last-Modified either: nothing to pin by
  --unsized            GET: no Content-Length, the body ends at the close
  --swap FILE          GET: the bytes of FILE instead (HEAD: the original),
                       as an object replaced between the HEAD and the GET
  --lm-shift SECS      GET: Last-Modified SECS later than the HEAD's

  weakhttp.py --dir DIR [--port-file F] [options]

It listens on 127.0.0.1 on a free port, printed on stdout and written to
--port-file, and logs one line a request to stderr.
"""
import argparse
import email.utils
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file")
    p.add_argument("--no-last-modified", action="store_true")
    p.add_argument("--unsized", action="store_true")
    p.add_argument("--swap")
    p.add_argument("--lm-shift", type=float, default=0)
    a = p.parse_args()

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.0" if a.unsized else "HTTP/1.1"

        def __init__(self, *args, **kw):
            super().__init__(*args, directory=a.dir, **kw)

        def answer(self, body_too):
            path = self.translate_path(self.path)
            if not os.path.isfile(path):
                self.send_error(404)
                return
            st = os.stat(path)
            lm = st.st_mtime + (self.command == "GET" and a.lm_shift or 0)
            data_path = a.swap if body_too and a.swap else path
            with open(data_path, "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if not a.no_last_modified:
                self.send_header("Last-Modified",
                                 email.utils.formatdate(lm, usegmt=True))
            if not (body_too and a.unsized):
                self.send_header("Content-Length",
                                 str(len(data) if body_too else st.st_size))
            self.end_headers()
            if body_too:
                self.wfile.write(data)

        def do_HEAD(self):
            self.answer(False)

        def do_GET(self):
            self.answer(True)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    print(port, flush=True)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()

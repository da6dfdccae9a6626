// A round-robin reverse proxy for the replicas spec: each request (not each connection) goes
// to the next upstream, like a load balancer without sticky sessions. GET /__rr tells how many
// requests each upstream served. Usage: node rr-proxy.js LISTEN_PORT UPSTREAM_PORT...
const http = require('http');

const [listen, ...upstreams] = process.argv.slice(2).map(Number);
const served = Object.fromEntries(upstreams.map((p) => [p, 0]));
let next = 0;

http
  .createServer((req, res) => {
    if (req.url === '/__rr') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(served));
      return;
    }
    const port = upstreams[next++ % upstreams.length];
    served[port] += 1;
    const up = http.request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers, agent: false },
      (upRes) => {
        res.writeHead(upRes.statusCode, upRes.rawHeaders);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end('upstream failed');
    });
    req.pipe(up);
  })
  .listen(listen, '127.0.0.1');

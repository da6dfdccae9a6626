// Settings shared by the Playwright config and the specs. Test-only keys.
export const IDENTITY_KEY = 'e2e-identity-key-e2e-identity-key-00000000';
export const ENCRYPTION_KEY = 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=';
// E2E_PORT_OFFSET (default 0) moves every port, so a second checkout can run the suite on the
// same machine at the same time (e.g. E2E_PORT_OFFSET=1000: 4101, 4200, …).
const PORT_OFFSET = Number(process.env.E2E_PORT_OFFSET ?? 0);
if (!Number.isInteger(PORT_OFFSET) || PORT_OFFSET < 0 || PORT_OFFSET > 60000) {
  throw new Error(`E2E_PORT_OFFSET must be a whole number of ports, got ${process.env.E2E_PORT_OFFSET}`);
}
export const PORTS = {
  fakeHttp: 3101 + PORT_OFFSET,
  fakeHttps: 3102 + PORT_OFFSET,
  identity: 3200 + PORT_OFFSET,
  local: 3201 + PORT_OFFSET,
  based: 3202 + PORT_OFFSET,
  // Two replicas on one PostgreSQL behind a round-robin proxy.
  replicaA: 3203 + PORT_OFFSET,
  replicaB: 3204 + PORT_OFFSET,
  proxy: 3205 + PORT_OFFSET,
};
export const FAKE_HTTP_BY_NAME = `http://localhost:${PORTS.fakeHttp}`;
export const FAKE_HTTP_BY_IP = `http://127.0.0.1:${PORTS.fakeHttp}`;
export const FAKE_HTTPS = `https://localhost:${PORTS.fakeHttps}`;
export const LOCAL_URL = `http://127.0.0.1:${PORTS.local}/`;
export const SERVICE_TOKEN = 'e2e-service-token-e2e-service-token-0000';
// The instance behind a console-style path prefix.
export const BASE_PATH = '/console/code-sources';
export const BASED_URL = `http://127.0.0.1:${PORTS.based}${BASE_PATH}/`;
// The console page the table links to (CODESOURCE_BUILD_URL of the identity instance).
export const BUILD_URL = '/console/builds/new';
// The round-robin proxy in front of the two replicas.
export const PROXY_URL = `http://127.0.0.1:${PORTS.proxy}`;

// Settings shared by the Playwright config and the specs. Test-only keys.
export const IDENTITY_KEY = 'e2e-identity-key-e2e-identity-key-00000000';
export const ENCRYPTION_KEY = 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=';
export const PORTS = {
  fakeHttp: 3101,
  fakeHttps: 3102,
  identity: 3200,
  local: 3201,
  based: 3202,
  // Two replicas on one PostgreSQL behind a round-robin proxy.
  replicaA: 3203,
  replicaB: 3204,
  proxy: 3205,
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

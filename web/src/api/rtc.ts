/** STUN/TURN servers for the media connection to the server (`GET /api/rtc/ice-servers`; TURN is the last resort). */
import { api } from './client';
import type { IceServersResponse } from './types';

export interface IceConfig {
  servers: RTCIceServer[];
  /** How long the TURN credentials last. */
  ttlSeconds: number;
}

export async function fetchIceServers(): Promise<IceConfig> {
  const answer = await api<IceServersResponse>('/api/rtc/ice-servers');
  return {
    servers: answer.iceServers.map((s) => {
      // The server sends `null` for absent credentials; RTCPeerConnection wants them absent.
      const server: RTCIceServer = { urls: s.urls };
      if (s.username) server.username = s.username;
      if (s.credential) server.credential = s.credential;
      return server;
    }),
    ttlSeconds: answer.ttlSeconds,
  };
}

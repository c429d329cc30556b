#!/usr/bin/env python3
"""A UDP DNS proxy that delays every datagram by DELAY_MS each way.

  delay_proxy.py LISTEN_IP LISTEN_PORT UPSTREAM_IP UPSTREAM_PORT DELAY_MS

This kernel has no netem; the fleet benchmark's latency mode puts this proxy
between bounceprobe and Knot so that each lookup costs a round trip of
2 x DELAY_MS, and a check's wall time over that round trip tells how many
rounds its critical path has.
"""
import asyncio
import sys

listen_ip, listen_port, up_ip, up_port, delay_ms = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
delay = delay_ms / 1000.0


class Upstream(asyncio.DatagramProtocol):
    def __init__(self, front, client):
        self.front, self.client, self.transport = front, client, None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        loop = asyncio.get_running_loop()
        loop.call_later(delay, self.front.transport.sendto, data, self.client)


class Front(asyncio.DatagramProtocol):
    def __init__(self):
        self.transport, self.upstreams = None, {}

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        asyncio.get_running_loop().call_later(delay, lambda: asyncio.ensure_future(self.forward(data, addr)))

    async def forward(self, data, addr):
        up = self.upstreams.get(addr)
        if up is None:
            loop = asyncio.get_running_loop()
            _, up = await loop.create_datagram_endpoint(lambda: Upstream(self, addr), remote_addr=(up_ip, up_port))
            self.upstreams[addr] = up
        up.transport.sendto(data)


async def main():
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Front, local_addr=(listen_ip, listen_port))
    print("delay_proxy: ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())

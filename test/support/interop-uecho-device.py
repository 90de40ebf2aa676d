"""An ECHONET Lite air conditioner made with `uecho` (PyPI; Satoshi Konno's implementation, independent
of ours), on loopback, for the interoperability tests. Prints JSON lines on stdout:

  {"type": "ready", "nodeId": ..., "address": ..., "port": ...}    sockets bound
  {"type": "request", "esv": "62", "from": "127.0.0.1", "deoj": "013001", "epcs": ["80", ...]}
  {"type": "stopped"}                                                 after SIGTERM, then exit 0

  python interop-uecho-device.py --address 127.0.0.2 --multicast-interface 127.0.0.1 --port 23610 --config JSON

Config: {"properties": {"80": "30", ...}} (EDT hex by EPC of the 0x013001 object).

uecho 1.0.3 on its own cannot keep to the project's network rule, so its sockets are set up here
with its own classes, and everything above them (frames, node profile, objects, answering) is
uecho's:
  - LocalNode.start(ifaddrs) ignores `ifaddrs`: its frame manager binds every IPv4 address of the
    host but 127.0.0.1 and joins 224.0.23.0 on each (the real LAN's included). Here the manager is
    started on the one loopback address given.
  - Its multicast socket binds 0.0.0.0:port, which clashes with a controller bound to
    127.0.0.1:port on the same host (and would take unicast meant for others). Here it binds the
    group address, as the project's simulated nodes do.
  - Its sending socket never sets IP_MULTICAST_IF, so the kernel's routing picks where a multicast
    goes. Here it is set to the given loopback address, with TTL 1.
  - The port is a class constant (3610); tests run on a port of their own.
"""
import argparse
import json
import signal
import socket
import sys
import threading

import uecho
from uecho.frame.multicast_server import MulticastServer
from uecho.frame.server import Server
from uecho.frame.unicast_server import UnicastServer

AIR_CONDITIONER = 0x013001
NODE_PROFILE = 0x0EF001


def emit(line):
    sys.stdout.write(json.dumps(line) + '\n')
    sys.stdout.flush()


class Answering(uecho.ObjectRequestHandler):
    """Reads of properties that hold a value are answered; others get Get_SNA. Writes are refused."""

    def property_read_requested(self, prop):
        return prop is not None and prop.data is not None and len(prop.data) > 0

    def property_write_requested(self, prop, data):
        return False


class RequestLog(object):
    """Observes every frame uecho parsed, so the test sees what our controller asked."""

    def message_received(self, proto_msg):
        msg = uecho.Message(proto_msg)
        if not msg.is_request():
            return
        emit({'type': 'request', 'esv': '%02x' % msg.ESV, 'from': msg.from_addr[0], 'deoj': '%06x' % msg.DEOJ, 'epcs': ['%02x' % p.code for p in msg.properties]})


def pin_multicast_to(interface):
    def bind(self, ifaddr):
        self.ifaddr = ifaddr
        self.sock = self.create_udp_socket()
        self.sock.bind((MulticastServer.ADDRESS, self.port))
        membership = socket.inet_aton(MulticastServer.ADDRESS) + socket.inet_aton(interface)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        return True

    MulticastServer.bind = bind


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--address', required=True)
    parser.add_argument('--multicast-interface', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--config', required=True)
    args = parser.parse_args()
    config = json.loads(args.config)
    if not args.address.startswith('127.') or not args.multicast_interface.startswith('127.'):
        raise SystemExit('loopback addresses only (127.0.0.0/8): the network rule of the tests')

    Server.PORT = args.port
    pin_multicast_to(args.multicast_interface)

    node = uecho.LocalNode()
    device = uecho.Device(AIR_CONDITIONER)
    device.set_request_handler(Answering())
    for epc, edt in config['properties'].items():
        if not device.set_property_data(int(epc, 16), bytes.fromhex(edt)):
            raise SystemExit('uecho has no property 0x%s in its 0x0130 object' % epc)
    node.add_object(device)

    manager = node._LocalNode__manager  # LocalNode.start would ignore the address (see above)
    if not manager.start([args.address]):
        raise SystemExit('uecho could not bind %s:%d' % (args.address, args.port))
    node.set_address((manager.ifaddr, manager.port))
    for server in manager.servers:
        if isinstance(server, UnicastServer):
            server.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(args.multicast_interface))
            server.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    manager.add_observer(node)
    manager.add_observer(RequestLog())

    node_id = node.get_object(NODE_PROFILE).get_property_data(0x83).hex()
    emit({'type': 'ready', 'nodeId': node_id, 'address': manager.ifaddr, 'port': manager.port})

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    node.stop()
    emit({'type': 'stopped'})


if __name__ == '__main__':
    main()

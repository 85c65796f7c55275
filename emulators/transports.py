"""Emulators on any bumble HCI transport.

The emulators take a bumble ``Device``; where its controller lives is the transport's
business. ``device_on_transport("usb:0")`` (or ``serial:/dev/ttyACM0``, ``tcp-client:HOST:PORT``,
``hci-socket:0``) gives a Device whose host talks HCI to a real radio, so an emulated CEW on a
dongle triggers a vendor's camera. ``serve_air_controller`` puts a controller of the simulated
air behind a ``tcp-server`` transport: a host connecting with ``tcp-client`` then runs exactly
the code path it runs on a dongle."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from bumble import hci
from bumble.device import Device
from bumble.transport import Transport, open_transport
from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

from emulators.air import Air, AirController, Point, PositionFn, static_random_address


class TransportError(RuntimeError):
    """The transport could not be opened (no such device, refused connection, ...)."""


@dataclass
class ServedController:
    controller: AirController
    transport: Transport
    port: int

    @property
    def client_spec(self) -> str:
        return f"tcp-client:127.0.0.1:{self.port}"

    async def close(self) -> None:
        await self.transport.close()


async def serve_air_controller(air: Air, name: str, position: Point | PositionFn, *, kind: str = "radio",
                               address: str | None = None, rx_gain_db: float = 0.0) -> ServedController:
    """A controller on the simulated air, reachable over HCI at tcp-client:127.0.0.1:<port>."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    transport = await open_tcp_server_transport_with_socket(sock)
    address = address or static_random_address(name)
    controller = AirController(name, link=air, public_address=address, host_source=transport.source, host_sink=transport.sink)
    air.place(controller, name, position, kind, rx_gain_db)
    return ServedController(controller, transport, port)


async def device_on_transport(spec: str, name: str, address: str | None = None) -> tuple[Device, Transport]:
    """A bumble Device whose host talks HCI over the given transport spec."""
    try:
        transport = await open_transport(spec)
    except Exception as exc:  # bumble raises several types; the caller gets one, with the spec
        raise TransportError(f"cannot open HCI transport {spec!r}: {exc}") from exc
    address = address or static_random_address(name)
    return Device.with_hci(name, hci.Address(address), transport.source, transport.sink), transport

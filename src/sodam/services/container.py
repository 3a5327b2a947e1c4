"""The services one app instance uses, built by ``sodam.app`` and handed to the edges."""

from __future__ import annotations

from dataclasses import dataclass

from sodam.services.accounts import AccountService
from sodam.services.auth import AuthService
from sodam.services.files import FileService
from sodam.services.health import HealthService
from sodam.services.jobs import JobQueue
from sodam.services.messages import MessageService
from sodam.services.pins import PinService
from sodam.services.reads import ReadFanout, ReadService
from sodam.services.rooms import RoomService
from sodam.services.sync import SyncService
from sodam.services.uploads import UploadService


@dataclass(frozen=True, slots=True)
class Services:
    auth: AuthService
    accounts: AccountService
    health: HealthService
    rooms: RoomService
    messages: MessageService
    pins: PinService
    reads: ReadService
    read_fanout: ReadFanout
    sync: SyncService
    jobs: JobQueue
    uploads: UploadService
    files: FileService

"""The organizations table: who owns every object."""

from __future__ import annotations

from emulator.store.db import Database
from emulator.store.records import Organization


class OrganizationsTable(Database):
    """Organisations by name (made on first use) and by id."""

    def ensure_organization(self, name: str, created_at: int) -> Organization:
        rows = self._query("SELECT * FROM organizations WHERE name = ?", (name,))
        if rows:
            return Organization(**dict(rows[0]))
        with self.transaction():
            org = Organization(self.next_id("org-"), name, created_at)
            self._db.execute(
                "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
                (org.id, org.name, org.created_at),
            )
        return org

    def list_organizations(self) -> list[Organization]:
        return [Organization(**dict(row)) for row in self._query("SELECT * FROM organizations ORDER BY name")]

    def get_organization(self, organization_id: str) -> Organization | None:
        rows = self._query("SELECT * FROM organizations WHERE id = ?", (organization_id,))
        return Organization(**dict(rows[0])) if rows else None

"""roles and row-level security

Each partner user may be linked to the PostgreSQL role they log in as; audit events record the
user acted for and the role that wrote them; outbox rows name the client they are about. On
PostgreSQL the store's group roles, SECURITY DEFINER functions, triggers, row-level security and
grants are installed (store/policies.py), and the first active admin is linked to the role that
runs the upgrade, so an upgraded store keeps working for its owner.

Tenant administrator fingerprints become HMAC(pepper, argon2id(password, salt)): the old
fingerprint was argon2id(password, salt=old pepper), so the old pepper becomes the public salt,
a new pepper is drawn, and every fingerprint is re-keyed without knowing any password.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00
"""
import hashlib
import hmac
import os
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('db_role', sqlmodel.sql.sqltypes.AutoString(length=63), nullable=True))
        batch_op.create_unique_constraint('uq_users_db_role', ['db_role'])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
        batch_op.add_column(sa.Column('db_role', sqlmodel.sql.sqltypes.AutoString(length=63), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'outbox_client_id_fkey', 'clients', ['client_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_index('ix_outbox_client_id', ['client_id'], unique=False)
    with op.batch_alter_table('tenant_credential_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('salt', sa.LargeBinary(), nullable=True))
    if postgres:
        from partnerctl.store.policies import install_extension

        install_extension(bind)
        _rekey_postgres(bind)
    else:
        _rekey_sqlite(bind)
    with op.batch_alter_table('tenant_credential_keys', schema=None) as batch_op:
        batch_op.alter_column('salt', existing_type=sa.LargeBinary(), nullable=False)
    if postgres:
        _install_postgres(bind)


def _rekey_postgres(bind) -> None:
    # One statement: salt takes the old pepper while a new pepper is drawn in the database.
    bind.exec_driver_sql(
        "UPDATE tenant_credential_keys SET salt = pepper, pepper = gen_random_bytes(32)"
    )
    bind.exec_driver_sql(
        "UPDATE tenant_admins SET pw_fingerprint = encode(hmac(decode(pw_fingerprint, 'hex'), "
        "(SELECT k.pepper FROM tenant_credential_keys k WHERE k.id = 1), 'sha256'), 'hex')"
    )


def _rekey_sqlite(bind) -> None:
    for key_id, old in bind.exec_driver_sql("SELECT id, pepper FROM tenant_credential_keys").all():
        pepper = os.urandom(32)
        bind.exec_driver_sql(
            "UPDATE tenant_credential_keys SET salt = ?, pepper = ? WHERE id = ?", (old, pepper, key_id)
        )
        if key_id != 1:
            continue
        for admin_id, fp in bind.exec_driver_sql("SELECT id, pw_fingerprint FROM tenant_admins").all():
            new = hmac.new(pepper, bytes.fromhex(fp), hashlib.sha256).hexdigest()
            bind.exec_driver_sql("UPDATE tenant_admins SET pw_fingerprint = ? WHERE id = ?", (new, admin_id))


def _install_postgres(bind) -> None:
    from partnerctl.store.policies import install
    from partnerctl.store.roles import grant_group, session_role

    me = session_role(bind)
    # An existing store keeps working for whoever upgrades it: its first active admin becomes them.
    linked = bind.exec_driver_sql("SELECT count(*) FROM users WHERE db_role IS NOT NULL").scalar()
    first_admin = bind.exec_driver_sql(
        "SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id LIMIT 1"
    ).scalar()
    groups = install(bind)
    if not linked and first_admin is not None:
        bind.exec_driver_sql("UPDATE users SET db_role = %s WHERE id = %s", (me, first_admin))
        grant_group(bind, groups.admin, me)


def downgrade() -> None:
    # The fingerprints were re-keyed with a new pepper; the old ones cannot be computed back.
    raise RuntimeError("0002 cannot be downgraded: tenant administrator fingerprints were re-keyed")

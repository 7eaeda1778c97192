"""invoices as documents: VAT per line, seller and buyer snapshots, credit notes, payments,
numbering per series, the partner's invoicing identity, clients' VAT numbers, outbox attachments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 21:42:53.145007

Existing invoices were issued without VAT. They are backfilled so that their totals stay exactly as
they were: each line becomes category O (outside the scope of VAT) at 0 % with no VAT, the invoice's
net total is its total, its VAT total 0, its due date its issue date, its language the client's,
the seller its partner name and the buyer the client's name, address and contact e-mail as they are
at the upgrade. Their numbers continue in the series INV.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import partnerctl.store.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Money = partnerctl.store.types.Money
String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('vat_rates',
    sa.Column('country', String(length=2), nullable=False),
    sa.Column('rate', Money(precision=18, scale=6), nullable=False),
    sa.Column('updated_by', String(length=320), nullable=True),
    sa.Column('updated_at', partnerctl.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('country')
    )
    op.create_table('outbox_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', String(length=200), nullable=False),
    sa.Column('content_type', String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_attachments_message', ['message_id'], unique=False)

    op.create_table('invoice_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', Money(precision=18, scale=6), nullable=False),
    sa.Column('recorded_by', String(length=320), nullable=True),
    sa.Column('recorded_at', partnerctl.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_id', name='uq_invoice_payments_invoice')
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_number', String(length=20), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_name', String(length=200), nullable=True))
        batch_op.add_column(sa.Column('street', String(length=200), nullable=True))
        batch_op.add_column(sa.Column('city', String(length=100), nullable=True))
        batch_op.add_column(sa.Column('zip', String(length=20), nullable=True))
        batch_op.add_column(sa.Column('country', String(length=2), nullable=True))
        batch_op.add_column(sa.Column('vat_number', String(length=20), nullable=True))
        batch_op.add_column(sa.Column('iban', String(length=34), nullable=True))
        batch_op.add_column(sa.Column('bic', String(length=11), nullable=True))
        batch_op.add_column(sa.Column('payment_terms_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('footer', String(length=500), nullable=True))

    _sequences_per_series()
    _invoice_lines()
    _invoices()
    if op.get_bind().dialect.name == 'postgresql':
        # The new tables hold per-client rows (payments, invoice PDFs in the outbox): the same
        # row-level security, grants and policies as every other table (store/policies.py).
        from partnerctl.store.policies import install

        install(op.get_bind())


def _sequences_per_series() -> None:
    """The counter gets a series (INV, CN): a new table keyed (series, year), the old counters as INV."""
    op.create_table('invoice_sequences_new',
    sa.Column('series', String(length=8), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year', name='pk_invoice_sequences')
    )
    op.execute(
        "INSERT INTO invoice_sequences_new (series, year, last_number) "
        "SELECT 'INV', year, last_number FROM invoice_sequences"
    )
    op.drop_table('invoice_sequences')
    op.rename_table('invoice_sequences_new', 'invoice_sequences')


def _invoice_lines() -> None:
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_category', String(length=2), nullable=True))
        batch_op.add_column(sa.Column('vat_rate', Money(precision=18, scale=6), nullable=True))
        batch_op.add_column(sa.Column('vat_amount', Money(precision=18, scale=6), nullable=True))
    lines = sa.table('invoice_lines', sa.column('vat_category'), sa.column('vat_rate', Money()),
                     sa.column('vat_amount', Money()))
    op.execute(lines.update().values(vat_category='O', vat_rate=0, vat_amount=0))
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.alter_column('vat_category', existing_type=String(length=2), nullable=False)
        batch_op.alter_column('vat_rate', existing_type=Money(precision=18, scale=6), nullable=False)
        batch_op.alter_column('vat_amount', existing_type=Money(precision=18, scale=6), nullable=False)


_NEW_INVOICE_COLUMNS = {
    'language': String(length=8), 'due_date': sa.Date(), 'net_total': Money(precision=18, scale=6),
    'vat_total': Money(precision=18, scale=6), 'vat_breakdown': sa.JSON(), 'seller': sa.JSON(),
    'buyer': sa.JSON(),
}


def _invoices() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='invoice', nullable=False))
        batch_op.add_column(sa.Column('credited_invoice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reason', String(length=300), nullable=True))
        for name, type_ in _NEW_INVOICE_COLUMNS.items():
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    _backfill_invoices()
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        for name, type_ in _NEW_INVOICE_COLUMNS.items():
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.drop_constraint('uq_invoices_subscription_period', type_='unique')
        batch_op.create_unique_constraint('uq_invoices_subscription_period', ['subscription_id', 'period_start', 'kind'])
        batch_op.create_unique_constraint('uq_invoices_credited_invoice', ['credited_invoice_id'])
        batch_op.create_foreign_key('fk_invoices_credited_invoice', 'invoices', ['credited_invoice_id'], ['id'], ondelete='RESTRICT')


def _backfill_invoices() -> None:
    """Invoices issued before VAT: their totals stay, their documents name who they named then."""
    conn = op.get_bind()
    partner = conn.execute(sa.text("SELECT name FROM partner ORDER BY id LIMIT 1")).scalar() or "partnerctl"
    invoices = sa.table(
        'invoices', sa.column('id', sa.Integer), sa.column('language'), sa.column('vat_total', Money()), sa.column('vat_breakdown', sa.JSON), sa.column('seller', sa.JSON),
        sa.column('buyer', sa.JSON),
    )
    rows = conn.execute(sa.text(
        "SELECT i.id, i.total, c.name, c.language, c.billing_street, c.billing_city, "
        "c.billing_zip, c.billing_country, c.contact_email FROM invoices i JOIN clients c ON c.id = i.client_id"
    )).all()
    total_type = Money()
    updates = []
    for row in rows:
        total = total_type.process_result_value(row.total, conn.dialect)
        updates.append({
            'b_id': row.id, 'language': row.language, 'vat_total': 0,
            'vat_breakdown': [{'category': 'O', 'rate': '0', 'net': str(total), 'vat': '0'}],
            'seller': {'name': partner},
            'buyer': {'name': row.name, 'street': row.billing_street, 'city': row.billing_city,
                      'zip': row.billing_zip, 'country': row.billing_country, 'vat_number': None,
                      'email': row.contact_email},
        })
    if updates:
        statement = invoices.update().where(invoices.c.id == sa.bindparam('b_id')).values(
            language=sa.bindparam('language'), vat_total=sa.bindparam('vat_total'), vat_breakdown=sa.bindparam('vat_breakdown'),
            seller=sa.bindparam('seller'), buyer=sa.bindparam('buyer'),
        )
        conn.execute(statement, updates)
    op.execute("UPDATE invoices SET net_total = total, due_date = issue_date")


def downgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint('fk_invoices_credited_invoice', type_='foreignkey')
        batch_op.drop_constraint('uq_invoices_credited_invoice', type_='unique')
        batch_op.drop_constraint('uq_invoices_subscription_period', type_='unique')
        batch_op.create_unique_constraint('uq_invoices_subscription_period', ['subscription_id', 'period_start'])
        for name in ('buyer', 'seller', 'vat_breakdown', 'vat_total', 'net_total', 'due_date', 'language',
                     'reason', 'credited_invoice_id', 'kind'):
            batch_op.drop_column(name)
    op.execute("DELETE FROM invoice_sequences WHERE series <> 'INV'")
    op.create_table('invoice_sequences_old',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name='pk_invoice_sequences_year')
    )
    op.execute("INSERT INTO invoice_sequences_old (year, last_number) SELECT year, last_number FROM invoice_sequences")
    op.drop_table('invoice_sequences')
    op.rename_table('invoice_sequences_old', 'invoice_sequences')
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_column('vat_amount')
        batch_op.drop_column('vat_rate')
        batch_op.drop_column('vat_category')
    with op.batch_alter_table('partner', schema=None) as batch_op:
        for name in ('footer', 'payment_terms_days', 'bic', 'iban', 'vat_number', 'country', 'zip', 'city',
                     'street', 'legal_name'):
            batch_op.drop_column(name)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('attachments')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('vat_number')
    op.drop_table('invoice_payments')
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_attachments_message')
    op.drop_table('outbox_attachments')
    op.drop_table('vat_rates')

"""baseline

Revision ID: a871b0a21821
Revises: 
Create Date: 2026-11-26 20:38:52.978231

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'a871b0a21821'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('account',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('password_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('email', name=op.f('uq_account_email'))
    )
    op.create_table('rate_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_event'))
    )
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rate_event_bucket'), ['bucket'], unique=False)

    op.create_table('auth_session',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('csrf_secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_auth_session_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_auth_session'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_account_id'), ['account_id'], unique=False)

    op.create_table('password_reset',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_password_reset_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_password_reset'))
    )
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_account_id'), ['account_id'], unique=False)

    op.create_table('plan',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revisit_by', sa.Date(), nullable=True),
    sa.Column('revisit_set_by', sa.Uuid(), nullable=True),
    sa.Column('revisit_requested_by', sa.Uuid(), nullable=True),
    sa.Column('revisit_requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['revisit_requested_by'], ['account.id'], name=op.f('fk_plan_revisit_requested_by_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revisit_set_by'], ['account.id'], name=op.f('fk_plan_revisit_set_by_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan'))
    )
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_revisit_requested_by'), ['revisit_requested_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_revisit_set_by'), ['revisit_set_by'], unique=False)

    op.create_table('saved_form',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('fields', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_saved_form_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_saved_form'))
    )
    with op.batch_alter_table('saved_form', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_form_account_id'), ['account_id'], unique=False)

    op.create_table('debrief',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('started_by', sa.Uuid(), nullable=True),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_debrief_plan_id_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by'], ['account.id'], name=op.f('fk_debrief_started_by_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debrief'))
    )
    with op.batch_alter_table('debrief', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debrief_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debrief_started_by'), ['started_by'], unique=False)

    op.create_table('entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('is_draft', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('deleted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('deleted_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], name=op.f('fk_entry_created_by_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deleted_by'], ['account.id'], name=op.f('fk_entry_deleted_by_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['account.id'], name=op.f('fk_entry_owner_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_entry_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry'))
    )
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_deleted_by'), ['deleted_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_plan_id'), ['plan_id'], unique=False)

    op.create_table('invite',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('used_by', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], name=op.f('fk_invite_created_by_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_invite_plan_id_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by'], ['account.id'], name=op.f('fk_invite_used_by_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invite')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invite_token_hash'))
    )
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_invite_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invite_used_by'), ['used_by'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('joined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_visit_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('previous_visit_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint('slot IN (1, 2)', name=op.f('ck_membership_slot')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_membership_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_membership_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('plan_id', 'account_id', name=op.f('uq_membership_plan_id_account_id')),
    sa.UniqueConstraint('plan_id', 'slot', name=op.f('uq_membership_plan_id_slot'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_version',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_version_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_version')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_plan_version_plan_id_number'))
    )
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_version_plan_id'), ['plan_id'], unique=False)

    op.create_table('consent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('given_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('withdraw_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_consent_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_consent_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent')),
    sa.UniqueConstraint('entry_id', 'account_id', 'version', name=op.f('uq_consent_entry_id_account_id_version'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_entry_id'), ['entry_id'], unique=False)

    op.create_table('debrief_answer',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('debrief_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('what_happened', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('how_it_felt', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('what_would_help', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('what_to_change', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('shared_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_debrief_answer_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], name=op.f('fk_debrief_answer_debrief_id_debrief'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debrief_answer')),
    sa.UniqueConstraint('debrief_id', 'account_id', name=op.f('uq_debrief_answer_debrief_id_account_id'))
    )
    with op.batch_alter_table('debrief_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debrief_answer_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debrief_answer_debrief_id'), ['debrief_id'], unique=False)

    op.create_table('entry_link',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], name=op.f('fk_entry_link_created_by_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_entry_link_plan_id_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['entry.id'], name=op.f('fk_entry_link_response_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['entry.id'], name=op.f('fk_entry_link_target_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_link')),
    sa.UniqueConstraint('response_id', 'target_id', name=op.f('uq_entry_link_response_id_target_id'))
    )
    with op.batch_alter_table('entry_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_link_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_link_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_link_response_id'), ['response_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_link_target_id'), ['target_id'], unique=False)

    op.create_table('flag',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('raised_by', sa.Uuid(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cleared_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cleared_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['cleared_by'], ['account.id'], name=op.f('fk_flag_cleared_by_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_flag_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['raised_by'], ['account.id'], name=op.f('fk_flag_raised_by_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag'))
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_cleared_by'), ['cleared_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_raised_by'), ['raised_by'], unique=False)

    op.create_table('note',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('reply_to_id', sa.Uuid(), nullable=True),
    sa.Column('entry_id', sa.Uuid(), nullable=True),
    sa.Column('debrief_id', sa.Uuid(), nullable=True),
    sa.Column('what_i_see', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('what_i_feel', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('what_i_need', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['account.id'], name=op.f('fk_note_author_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], name=op.f('fk_note_debrief_id_debrief'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_note_entry_id_entry'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_note_plan_id_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_to_id'], ['note.id'], name=op.f('fk_note_reply_to_id_note'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note'))
    )
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_note_debrief_id'), ['debrief_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_note_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_note_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_note_reply_to_id'), ['reply_to_id'], unique=False)

    op.create_table('revision',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('debrief_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['account.id'], name=op.f('fk_revision_author_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], name=op.f('fk_revision_debrief_id_debrief'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_revision_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision')),
    sa.UniqueConstraint('entry_id', 'version', name=op.f('uq_revision_entry_id_version'))
    )
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revision_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_debrief_id'), ['debrief_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_entry_id'), ['entry_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_entry_id'))
        batch_op.drop_index(batch_op.f('ix_revision_debrief_id'))
        batch_op.drop_index(batch_op.f('ix_revision_author_id'))

    op.drop_table('revision')
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_reply_to_id'))
        batch_op.drop_index(batch_op.f('ix_note_plan_id'))
        batch_op.drop_index(batch_op.f('ix_note_entry_id'))
        batch_op.drop_index(batch_op.f('ix_note_debrief_id'))
        batch_op.drop_index(batch_op.f('ix_note_author_id'))

    op.drop_table('note')
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_raised_by'))
        batch_op.drop_index(batch_op.f('ix_flag_entry_id'))
        batch_op.drop_index(batch_op.f('ix_flag_cleared_by'))

    op.drop_table('flag')
    with op.batch_alter_table('entry_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_link_target_id'))
        batch_op.drop_index(batch_op.f('ix_entry_link_response_id'))
        batch_op.drop_index(batch_op.f('ix_entry_link_plan_id'))
        batch_op.drop_index(batch_op.f('ix_entry_link_created_by'))

    op.drop_table('entry_link')
    with op.batch_alter_table('debrief_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debrief_answer_debrief_id'))
        batch_op.drop_index(batch_op.f('ix_debrief_answer_account_id'))

    op.drop_table('debrief_answer')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_entry_id'))
        batch_op.drop_index(batch_op.f('ix_consent_account_id'))

    op.drop_table('consent')
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_version_plan_id'))

    op.drop_table('plan_version')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_plan_id'))
        batch_op.drop_index(batch_op.f('ix_membership_account_id'))

    op.drop_table('membership')
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invite_used_by'))
        batch_op.drop_index(batch_op.f('ix_invite_plan_id'))
        batch_op.drop_index(batch_op.f('ix_invite_created_by'))

    op.drop_table('invite')
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_plan_id'))
        batch_op.drop_index(batch_op.f('ix_entry_owner_id'))
        batch_op.drop_index(batch_op.f('ix_entry_deleted_by'))
        batch_op.drop_index(batch_op.f('ix_entry_created_by'))

    op.drop_table('entry')
    with op.batch_alter_table('debrief', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debrief_started_by'))
        batch_op.drop_index(batch_op.f('ix_debrief_plan_id'))

    op.drop_table('debrief')
    with op.batch_alter_table('saved_form', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_form_account_id'))

    op.drop_table('saved_form')
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_revisit_set_by'))
        batch_op.drop_index(batch_op.f('ix_plan_revisit_requested_by'))

    op.drop_table('plan')
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_account_id'))

    op.drop_table('password_reset')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_account_id'))

    op.drop_table('auth_session')
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_event_bucket'))
        batch_op.drop_index(batch_op.f('ix_rate_event_at'))

    op.drop_table('rate_event')
    op.drop_table('account')


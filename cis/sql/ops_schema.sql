-- Operational tables that the pool steps write and dbt reads as sources.
-- Idempotent: runs on every `cis db init` and before every pool step.

create schema if not exists cis;

create table if not exists cis.clients (
    client_id uuid primary key,
    client_slug text not null unique,
    client_name text not null,
    client_status text not null check (client_status in ('active', 'paused', 'cancelled')),
    capacity integer not null check (capacity >= 0),
    min_icp_score numeric not null default 0.6 check (min_icp_score between 0 and 1),
    icp jsonb not null default '{}'::jsonb,
    excluded_companies jsonb not null default '[]'::jsonb,
    required_fields jsonb not null default '[]'::jsonb,
    allowed_email_statuses jsonb not null default '["verified"]'::jsonb,
    db_role text not null unique,
    config_hash text not null,
    synced_at timestamptz not null default now(),
    cancelled_at timestamptz
);

-- Added with the vendor campaigns and sending limits (config/clients.yml); additive, so an
-- existing database gains them on the next bootstrap.
alter table cis.clients add column if not exists campaigns jsonb not null default '{}'::jsonb;
alter table cis.clients add column if not exists daily_new_leads integer check (daily_new_leads >= 0);
alter table cis.clients add column if not exists daily_sends integer check (daily_sends >= 0);
alter table cis.clients add column if not exists sending_days jsonb not null
    default '["mon", "tue", "wed", "thu", "fri"]'::jsonb;
alter table cis.clients add column if not exists time_zone text not null default 'UTC';

create table if not exists cis.lead_assignments (
    assignment_id uuid primary key default gen_random_uuid(),
    lead_id uuid not null,
    client_id uuid not null references cis.clients (client_id),
    assignment_status text not null default 'active'
        check (assignment_status in ('active', 'released', 'converted', 'expired')),
    icp_score numeric check (icp_score between 0 and 1),
    assigned_by text not null,
    assigned_at timestamptz not null default now(),
    released_at timestamptz,
    release_reason text constraint lead_assignments_release_reason_check check (
        release_reason in (
            'client_cancelled', 'lead_request', 'manual', 'reallocation', 'deletion_request', 'expired',
            'capacity_reduced'
        )
    ),
    converted_at timestamptz,
    allocation_run_id uuid,
    check ((assignment_status = 'released') = (released_at is not null))
);
-- Reasons added later (capacity_reduced: the allocator gives back the newest extras of a client
-- whose capacity was lowered). A database created before has the older check under the same
-- name; replace it once, only when it lacks a reason (no table lock or scan on later runs).
do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conrelid = 'cis.lead_assignments'::regclass
            and conname = 'lead_assignments_release_reason_check'
            and pg_get_constraintdef(oid) like '%capacity_reduced%'
    ) then
        alter table cis.lead_assignments drop constraint if exists lead_assignments_release_reason_check;
        alter table cis.lead_assignments add constraint lead_assignments_release_reason_check check (
            release_reason in (
                'client_cancelled', 'lead_request', 'manual', 'reallocation', 'deletion_request', 'expired',
                'capacity_reduced'
            )
        );
    end if;
end
$$;
-- Exclusivity lives here: one active (or converted: converted leads stay) assignment per lead.
create unique index if not exists lead_assignments_one_holder_per_lead
    on cis.lead_assignments (lead_id) where assignment_status in ('active', 'converted');
create index if not exists lead_assignments_client_status on cis.lead_assignments (client_id, assignment_status);
create index if not exists lead_assignments_released_at on cis.lead_assignments (lead_id, released_at);

create table if not exists cis.contact_events (
    event_id uuid primary key default gen_random_uuid(),
    lead_id uuid,
    email text,
    client_id uuid references cis.clients (client_id),
    channel text not null check (channel in ('email', 'linkedin', 'sms', 'voice')),
    event_type text not null
        check (event_type in ('touch', 'reply', 'bounce', 'unsubscribe', 'do_not_contact', 'not_interested')),
    occurred_at timestamptz not null,
    source text not null default 'manual',
    check (lead_id is not null or email is not null)
);
create index if not exists contact_events_lead on cis.contact_events (lead_id, occurred_at);
create index if not exists contact_events_email on cis.contact_events (lower(email));
create index if not exists contact_events_client on cis.contact_events (client_id);

create table if not exists cis.allocation_runs (
    allocation_run_id uuid primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    assigned_count integer not null default 0,
    released_count integer not null default 0,
    summary jsonb not null default '{}'::jsonb
);

create table if not exists cis.validation_results (
    validation_id uuid primary key default gen_random_uuid(),
    validation_run_id uuid not null,
    lead_id uuid not null,
    client_id uuid not null references cis.clients (client_id),
    channel text not null check (channel in ('email', 'linkedin', 'sms', 'voice')),
    is_allowed boolean not null,
    failed_rules text[] not null default '{}',
    validated_at timestamptz not null
);
create index if not exists validation_results_run on cis.validation_results (validation_run_id);
create index if not exists validation_results_lead_client on cis.validation_results (lead_id, client_id);

create table if not exists cis.deletion_requests (
    deletion_request_id uuid primary key default gen_random_uuid(),
    subject_key_hash text not null,
    requested_by text not null,
    requested_at timestamptz not null default now(),
    completed_at timestamptz,
    affected jsonb not null default '{}'::jsonb
);

create table if not exists cis.suppression_keys (
    key_hash text primary key,
    key_kind text not null check (key_kind in ('email', 'linkedin_url', 'apollo_id')),
    deletion_request_id uuid references cis.deletion_requests (deletion_request_id),
    created_at timestamptz not null default now()
);

-- Maps the connected role to its agency client; row-level security policies call it. It runs
-- as the caller (security invoker), who sees its own cis.clients row through that table's policy.
create or replace function cis.current_client_id() returns uuid
language sql stable set search_path = pg_catalog, cis as $$
    select client_id from cis.clients where db_role = current_user
$$;

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

-- A/B tests declared in config/ab_tests.yml (docs/ab-tests.md); tests the vendors' sequence
-- variants imply need no row here. Synced by `cis clients sync`.
create table if not exists cis.ab_tests (
    test_key text primary key,
    client_id uuid not null references cis.clients (client_id) on delete cascade,
    provider text not null check (provider in ('smartlead', 'salesforge')),
    campaign_id text not null,
    step_number integer not null check (step_number >= 1),
    hypothesis text,
    primary_metric text not null
        check (primary_metric in ('open_rate', 'click_rate', 'reply_rate', 'positive_reply_rate')),
    target_sample_size integer check (target_sample_size > 0),
    start_on date,
    end_on date,
    status text not null check (status in ('draft', 'running', 'paused', 'completed', 'cancelled')),
    variants jsonb not null,
    synced_at timestamptz not null default now()
);

-- Upper tail of the chi-square distribution: the p-value of `statistic` with `degrees` degrees
-- of freedom (1 and up), in closed form. Even degrees: exp(-x/2) times the first degrees/2
-- terms of the series of exp(x/2). Odd degrees: erfc(sqrt(x/2)) plus the odd-degree series;
-- erfc by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), ample for a 0.001 flag.
create or replace function cis.chi_square_p_value(statistic double precision, degrees integer)
returns double precision
language sql immutable strict parallel safe set search_path = pg_catalog as $$
    with
    -- Past 1400 the p-value is below 1e-290 anyway; capping keeps exp() from underflowing.
    z as (select sqrt(least(greatest(statistic, 0), 1400) / 2) as z, least(greatest(statistic, 0), 1400) as x),
    erfc as (
        select
            (
                0.254829592 * t - 0.284496736 * t ^ 2 + 1.421413741 * t ^ 3
                - 1.453152027 * t ^ 4 + 1.061405429 * t ^ 5
            ) * exp(-(z.z ^ 2)) as value
        from z, lateral (select 1 / (1 + 0.3275911 * z.z) as t) as t
    ),
    even as (
        select exp(-z.x / 2) * coalesce(sum((z.x / 2) ^ i / factorial(i)::double precision), 0) as p
        from z, generate_series(0, degrees / 2 - 1) as i
        group by z.x
    ),
    odd as (
        select
            erfc.value + case
                when z.x = 0 then 0
                else sqrt(2 * z.x / pi()) * exp(-z.x / 2) * coalesce((
                    select sum(z.x ^ (i - 1) / (
                        select exp(sum(ln(2 * j - 1))) from generate_series(1, i) as j
                    ))
                    from generate_series(1, (degrees - 1) / 2) as i
                ), 0)
            end as p
        from z, erfc
    )
    select least(1, greatest(0, case
        when degrees < 1 then null
        when degrees % 2 = 0 then (select p from even)
        else (select p from odd)
    end))
$$;

-- The reply analyzer's results (docs/replies.md), one row per inbound message of
-- intermediate.int_inbound_messages. Written by `cis replies analyze` while it holds the build
-- lock, so a build never reads half a run; `analyzed_at` tells the incremental event models
-- whose replies have new results. A result is redone when the message's body or the
-- analyzer's version changes.
create table if not exists cis.reply_analyses (
    message_key text primary key,
    contact_kind text not null,
    contact_value text not null,
    body_hash text not null,
    analyzer_version text not null,
    backend text not null,
    intent text not null,
    sentiment text not null,
    sentiment_score double precision not null,
    objection_type text not null,
    questions jsonb not null default '[]'::jsonb,
    referral_email text,
    ooo_return_date date,
    confidence double precision not null,
    new_text text not null,
    quoted_text text not null,
    message_at timestamptz,
    analyzed_at timestamptz not null default clock_timestamp()
);
create index if not exists reply_analyses_analyzed_at on cis.reply_analyses (analyzed_at);
create index if not exists reply_analyses_contact on cis.reply_analyses (contact_kind, contact_value);

-- A person's labels for a reply (`cis replies relabel`, docs/replies.md): they win over the
-- analyzer's in the thread marts, and stay when the analyzer runs again.
create table if not exists cis.reply_labels (
    message_key text primary key,
    contact_kind text not null,
    contact_value text not null,
    intent text check (intent in (
        'interested', 'meeting_request', 'info_request', 'referral', 'not_interested',
        'unsubscribe', 'out_of_office', 'auto_reply', 'wrong_person', 'bounce'
    )),
    sentiment text check (sentiment in ('positive', 'neutral', 'negative')),
    objection_type text check (objection_type in (
        'none', 'pricing', 'timing', 'no_need', 'competitor', 'authority', 'trust'
    )),
    message_at timestamptz,
    labelled_by text not null,
    note text,
    labelled_at timestamptz not null default clock_timestamp(),
    check (intent is not null or sentiment is not null or objection_type is not null)
);
create index if not exists reply_labels_labelled_at on cis.reply_labels (labelled_at);

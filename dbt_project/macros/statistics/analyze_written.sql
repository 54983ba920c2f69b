{% macro analyze_written() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if materialized == 'table' -%}
        analyze {{ this }}
    {%- elif materialized == 'incremental' -%}
        do $analyze_written$
        declare
            written regclass := format(
                '%I.%I', {{ dbt.string_literal(this.schema) }},
                {{ dbt.string_literal(this.identifier) }}
            )::regclass;
            indexed text;
        begin
            -- A first build or a full refresh made a table without statistics.
            if not exists (
                select from pg_stats
                where
                    schemaname = {{ dbt.string_literal(this.schema) }}
                    and tablename = {{ dbt.string_literal(this.identifier) }}
            ) then
                execute format('analyze %s', written);
                return;
            end if;
            select string_agg(distinct quote_ident(indexed_column.attname), ', ')
            into indexed
            from pg_index as table_index
            inner join pg_attribute as indexed_column
                on
                    table_index.indrelid = indexed_column.attrelid
                    and indexed_column.attnum = any(table_index.indkey)
            where table_index.indrelid = written;
            execute format('analyze %s %s', written, coalesce('(' || indexed || ')', ''));
        end
        $analyze_written$
    {%- endif -%}
{%- endmacro %}

{% macro repoint_readers(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set target = relation.schema ~ '.' ~ relation.identifier -%}
    {%- call statement('swapped_readers', fetch_result=true) -%}
        select reader_schema || '.' || reader_name
        from pg_temp.dbt_swapped_readers
        where
            relation_schema = {{ dbt.string_literal(relation.schema) }}
            and relation_name = {{ dbt.string_literal(relation.identifier) }}
        order by 1
    {%- endcall -%}
    {%- set readers = load_result('swapped_readers').table.columns[0].values() | list -%}
    {%- if not readers -%}
        {{ return(none) }}
    {%- endif -%}
    {#- The project's name for each reader, and those this invocation builds after it. -#}
    {%- set models = {} -%}
    {%- set built_later = [] -%}
    {%- set ns = namespace(model=relation.identifier) -%}
    {%- for node in graph.nodes.values() if node.resource_type in ['model', 'seed', 'snapshot'] -%}
        {%- set name = node.schema ~ '.' ~ node.alias -%}
        {%- if name == target -%}
            {%- set ns.model = node.name -%}
        {%- elif name in readers -%}
            {%- do models.update({name: node.name}) -%}
            {%- if node.unique_id in selected_resources -%}
                {%- do built_later.append(name) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set command = 'run' if flags.WHICH == 'run' else 'build' -%}
    {{ log('Re-pointing ' ~ readers | join(', ') ~ ' to the new ' ~ target) }}
    {% call statement('repoint_readers') -%}
        do $repoint$
        declare
            models constant jsonb := {{ dbt.string_literal(tojson(models)) }};
            built_later constant text[] := array[
                {%- for name in built_later -%}
                    {{ dbt.string_literal(name) }}{{ ', ' if not loop.last }}
                {%- endfor -%}
            ]::text[];
            stashed record;
            reader text;
            unfit text[] := '{}';
            rebuild text[] := '{}';
            outsiders text[] := '{}';
        begin
            for stashed in
                select * from pg_temp.dbt_swapped_readers
                where
                    relation_schema = {{ dbt.string_literal(relation.schema) }}
                    and relation_name = {{ dbt.string_literal(relation.identifier) }}
                order by reader_schema, reader_name
            loop
                reader := stashed.reader_schema || '.' || stashed.reader_name;
                begin
                    -- The same definition parsed again: its names now resolve to the
                    -- new relation. The view keeps its oid, owner, privileges, comments
                    -- and readers; PostgreSQL refuses if its own columns would change.
                    execute format(
                        'create or replace view %I.%I%s as %s',
                        stashed.reader_schema, stashed.reader_name,
                        stashed.reader_options, stashed.reader_definition
                    );
                exception when others then
                    -- Built after it in this invocation, it reads the old relation
                    -- (kept, retired) until its own build replaces it.
                    if not reader = any(built_later) then
                        unfit := unfit || format('%s (%s)', reader, sqlerrm);
                        if models ? reader then
                            rebuild := rebuild || (models ->> reader);
                        else
                            outsiders := outsiders || reader;
                        end if;
                    end if;
                end;
            end loop;
            delete from pg_temp.dbt_swapped_readers
            where
                relation_schema = {{ dbt.string_literal(relation.schema) }}
                and relation_name = {{ dbt.string_literal(relation.identifier) }};
            if unfit <> '{}' then
                raise exception using
                    errcode = 'dependent_objects_still_exist',
                    message = format(
                        '%s was not replaced, nothing changed: views that read it do not fit '
                        'its new columns: %s. Next: %s',
                        {{ dbt.string_literal(target) }},
                        array_to_string(unfit, '; '),
                        concat_ws(
                            '; ',
                            case when outsiders <> '{}' then format(
                                'fix or drop %s (not models of this project)',
                                array_to_string(outsiders, ', ')
                            ) end,
                            case when rebuild <> '{}' then format(
                                'build them with it: dbt {{ command }} -s %s %s',
                                {{ dbt.string_literal(ns.model) }},
                                array_to_string(rebuild, ' ')
                            ) end
                        )
                    );
            end if;
        end
        $repoint$
    {%- endcall %}
{%- endmacro %}

{% macro assert_contract_columns() -%}
    {%- if execute and config.get('contract').enforced -%}
        {#- dbt's own check (names, order-free, and data types), as its table
            and view materializations run it: raises a contract error. -#}
        {%- do get_assert_columns_equivalent(model.compiled_code) -%}
    {%- endif -%}
{%- endmacro %}

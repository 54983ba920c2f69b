{#
    Generic tests written in the project (the dbt hub cannot be reached here):
    the dbt_utils / dbt_expectations equivalents the models need.
#}

{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select {{ columns }}, count(*) as duplicate_rows
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}

{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
    select {{ column_name }}
    from {{ model }}
    where
        {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
        {%- if min_value is not none and max_value is not none %} or{% endif %}
        {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}

{% test matches_regex(model, column_name, regex) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
        and {{ column_name }}::text !~ '{{ regex }}'
{% endtest %}

{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}

# Chapter 6, part 'gpt' (see rules.mk). Append this part's runs to RUNS and its numbers tables to N06.

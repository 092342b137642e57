// Word lists for composing responses. Plain sentences carry no digits, '!', '?', apostrophes,
// emoji or all-caps words, so that each attribute comes only from the snippet that controls it.

/** Prompts, each with the topic its responses are about. */
export const PROMPTS: readonly { readonly prompt: string; readonly topic: string }[] = (
  [
    ["How do I sort a list in Python?", "sorting"],
    ["How can I make my morning routine more productive?", "morning routines"],
    ["What is a good way to learn a new language?", "language learning"],
    ["How should I prepare for a job interview?", "interview preparation"],
    ["Can you explain how caching works?", "caching"],
    ["What should I pack for a weekend hiking trip?", "packing for a hike"],
    ["How do I keep houseplants alive?", "plant care"],
    ["What is the best way to save money each month?", "budgeting"],
    ["How do I write a clear email to my manager?", "email writing"],
    ["How can I improve my sleep?", "better sleep"],
    ["What makes a good presentation?", "presentations"],
    ["How do I start running regularly?", "running"],
  ] as const
).map(([prompt, topic]) => ({ prompt, topic }));

export const OPENERS = [
  "For {topic}, try to",
  "With {topic}, it helps to",
  "A good start with {topic} is to",
  "In {topic}, you should",
];

export const ACTIONS = [
  "start small",
  "focus on one change",
  "keep short notes",
  "review your progress",
  "break tasks into steps",
  "ask for feedback early",
  "remove friction",
  "stick with one method",
  "compare a few options",
  "plan the next step",
];

export const CLAUSES = ["each week", "and adjust", "so it lasts", "first", "as you go"];

export const LIST_INTROS = ["Steps:", "Tips:", "In short:"];

export const CODE_BLOCKS = [
  ["```js", "tasks.sort(byCost);", "```"],
  ["```python", "items.sort(key=len)", "```"],
  ["```bash", "grep todo notes.txt", "```"],
];

export const INTERJECTIONS = ["Go for it!", "You got this!", "Enjoy it!"];

export const NUMBER_SENTENCES = ["Aim for {n} minutes.", "Try {n} sessions.", "Give it {n} days."];

export const EMOJI = ["🙂", "🚀", "✨", "👍", "🌱"];

export const FORMAL_OPENING = "Dear reader,";
export const FORMAL_CLOSING = "Kind regards.";

export const CASUAL_SENTENCES = [
  "It's easier than it looks.",
  "Don't rush it.",
  "You'll get there.",
];

export const QUESTIONS = ["Want more detail?", "Does that help?", "Shall I go on?"];

export const SHOUTED_SENTENCES = ["This is KEY.", "Do NOT rush.", "ALWAYS rest."];

export const HEADINGS = ["# Tips", "## Answer", "## Plan"];
